"""Base communities and contacts screens: directory, filters, map data, contact changes,
concurrent edits, import and export, roles."""

from __future__ import annotations

import csv
import dataclasses
import html
import io
import re

import pytest
from web_helpers import csrf, logged_in

from tierslieux.config import Settings
from tierslieux.i18n import use_language
from tierslieux.pipeline.communities import CommunitiesRequest, run_communities
from tierslieux.pipeline.project_communities import step_labels
from tierslieux.pipeline.workspace import Workspace
from tierslieux.web.app import create_app

#: Actors of the demo territory, one per step of the study (fictional names).
ACTORS = (
    "nom,categorie,code_commune,themes,raison\n"
    "Coop Démo (FICTIVE),cae,00108,ess_cooperation,\n"
    "SCIC Numérique Démo (FICTIVE),scop_scic_tic,00102,tic;communication,\n"
    "Collectif coworking Démo (FICTIF),association_teleactivites,00103,tic,\n"
    "Tiers-lieu Démo (FICTIF),tiers_lieu_existant,00101,tiers_lieu,\n"
)


def _t(response) -> str:
    """The page's text with its HTML entities decoded."""
    return html.unescape(response.text)


def _project(
    app, repos, accounts, *, actors: str = ACTORS, name: str = "Annuaire démo"
) -> tuple[object, int]:
    """A chargé de mission's project on the demo département, with the actors file
    ``actors``, and a lecteur member."""
    client = logged_in(app, accounts["charge_de_mission"])
    token = csrf(client, "/projets/nouveau")
    created = client.post(
        "/projets",
        data={"name": name, "territory": "dep:00", "csrf_token": token},
        follow_redirects=False,
    )
    assert created.status_code == 303, _t(created)
    project = int(created.headers["location"].rsplit("/", 1)[1])
    uploaded = client.post(
        f"/projets/{project}/fichiers",
        data={"role": "acteurs", "csrf_token": token},
        files={"file": ("acteurs.csv", actors.encode("utf-8"), "text/csv")},
        follow_redirects=False,
    )
    assert uploaded.status_code == 303, _t(uploaded)
    reader = repos.users.get_user(accounts["lecteur"])
    repos.projects.add_member(project, reader.id, actor="test")
    return client, project


def _build(app, client, project: int):
    """Start the directory's run and wait for it (the page redirects to the run)."""
    token = csrf(client, f"/projets/{project}/communautes")
    response = client.post(
        f"/projets/{project}/communautes/construire",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith(f"/projets/{project}/calculs/")
    run_id = location.rsplit("/", 1)[1]
    assert app.state.runs.wait(run_id, timeout=120)
    run = app.state.repos.runs.get_run(run_id)
    assert run.status == "done", run.error
    # the run's page leads to the directory
    assert f"/projets/{project}/communautes" in client.get(location).text
    return response


@pytest.fixture
def built(app, repos, accounts):
    client, project = _project(app, repos, accounts)
    _build(app, client, project)
    return client, project


def _identifiant(client, project: int, name: str) -> str:
    page = _t(client.get(f"/projets/{project}/communautes"))
    found = re.search(
        r'href="/projets/\d+/contacts/([^"]+)">Fiche « ' + re.escape(name) + " »", page
    )
    assert found, page[-3000:]
    return found.group(1)


def test_the_directory_has_the_cli_numbers_and_french_labels(
    app, built, web_settings, demo_workspace, tmp_path
) -> None:
    client, project = built
    page = client.get(f"/projets/{project}/communautes")
    assert page.status_code == 200
    # the same computation as `tierslieux communities` on the same inputs
    actors = tmp_path / "acteurs.csv"
    actors.write_text(ACTORS, encoding="utf-8")
    settings = Settings(cache_dir=tmp_path / "c", offline=True)
    expected = run_communities(
        settings,
        CommunitiesRequest(territory="dep:00", acteurs=actors),
        inputs=Workspace.open(demo_workspace).inputs(settings),
    )
    total = len(expected.structures)
    with_base = int(expected.communities["communaute_base"].sum())
    assert f"{total} structures (" in _t(page)
    assert f"{with_base} commune(s) sur {len(expected.communities)}" in _t(page)
    assert f"({total} sur {total})" in _t(page)
    # labels of the study, never codes
    assert "Coopérative d'activité et d'emploi (étape 1)" in _t(page)
    assert "ESS et coopération" in _t(page)
    assert "Numérique (TIC), Communication" in _t(page)
    assert "ess_cooperation" not in _t(page).split("<table", 1)[1]
    assert "Construire l'annuaire" in _t(page)
    assert 'data-points-url="/projets/' in _t(page)


def test_filters_by_step_theme_commune_and_openness(built) -> None:
    client, project = built
    url = f"/projets/{project}/communautes"
    step1 = _t(client.get(url, params={"etape": "1"}))
    assert "Coop Démo (FICTIVE)" in step1
    assert "SCIC Numérique Démo" not in step1
    partners = _t(client.get(url, params={"etape": "3"}))
    assert "CC du Val-d'Exemple (FICTIVE)" in partners
    assert "Coop Démo" not in partners.split("<table", 1)[1]
    theme = _t(client.get(url, params={"theme": "tic"})).split("<table", 1)[1]
    assert "SCIC Numérique Démo" in theme
    assert "Collectif coworking" in theme
    assert "Coop Démo" not in theme
    commune = _t(client.get(url, params={"commune": "00102"})).split("<table", 1)[1]
    assert "SCIC Numérique Démo" in commune
    assert "Coop Démo" not in commune
    opened = _t(client.get(url, params={"ouverture": "absente"}))
    assert opened.count("Fiche « ") < _t(client.get(url)).count("Fiche « ")
    points = client.get(f"{url}/structures.geojson", params={"etape": "1"}).json()
    assert [f["properties"]["nom"] for f in points["features"]] == ["Coop Démo (FICTIVE)"]
    feature = points["features"][0]
    assert feature["geometry"]["type"] == "Point"
    assert feature["properties"]["lien"].startswith(f"/projets/{project}/contacts/")
    assert feature["properties"]["couleur"].startswith("#")
    communes = client.get(f"{url}/communes.geojson").json()
    assert len(communes["features"]) == 16
    assert communes["indicateurs_carte"]["indicateurs"][0]["cle"] == "nb_structures_communaute"
    csv_file = client.get(f"{url}/fichiers/structures.csv")
    assert csv_file.status_code == 200
    assert "attachment" in csv_file.headers["content-disposition"]
    assert client.get(f"{url}/fichiers/autre.txt").status_code == 404


def test_a_lecteur_reads_without_any_form_and_cannot_build(app, built, accounts) -> None:
    _client, project = built
    reader = logged_in(app, accounts["lecteur"])
    page = reader.get(f"/projets/{project}/communautes")
    assert page.status_code == 200
    assert "Construire l'annuaire" not in _t(page)
    ident = _identifiant(reader, project, "Coop Démo (FICTIVE)")
    contact = reader.get(f"/projets/{project}/contacts/{ident}")
    assert contact.status_code == 200
    assert (
        'method="post"'
        not in _t(contact)
        .split("</header>", 1)[-1]
        .replace('action="/deconnexion"', "")
        .split("<h1>", 1)[1]
    )
    listing = reader.get(f"/projets/{project}/contacts")
    assert listing.status_code == 200
    assert "/contacts/import" not in _t(listing)
    token = csrf(reader, f"/projets/{project}/contacts")
    for path, data in (
        (f"/projets/{project}/communautes/construire", {}),
        (f"/projets/{project}/contacts/{ident}/statut", {"statut": "contacte", "version": "1"}),
        (f"/projets/{project}/contacts/{ident}/note", {"texte": "x", "version": "1"}),
        (f"/projets/{project}/contacts/{ident}/action", {"action": "x", "version": "1"}),
        (f"/projets/{project}/contacts/{ident}/responsable", {"responsable": "x", "version": "1"}),
    ):
        refused = reader.post(path, data={**data, "csrf_token": token}, follow_redirects=False)
        assert refused.status_code == 403, path
    assert reader.get(f"/projets/{project}/contacts/export").status_code == 200


def test_outsiders_and_anonymous_get_nothing(app, built, accounts, repos) -> None:
    _client, project = built
    from web_helpers import PASSWORD  # noqa: PLC0415

    from tierslieux.pipeline.accounts import add_user  # noqa: PLC0415

    add_user(repos, "autre@exemple.fr", role="charge_de_mission", actor="t", password=PASSWORD)
    other = logged_in(app, "autre@exemple.fr")
    for path in ("communautes", "communautes/structures.geojson", "contacts", "contacts/export"):
        assert other.get(f"/projets/{project}/{path}").status_code == 404, path
    from fastapi.testclient import TestClient  # noqa: PLC0415

    anonymous = TestClient(app)
    page = anonymous.get(f"/projets/{project}/communautes", follow_redirects=False)
    assert page.status_code == 303


def test_before_the_build_the_screens_say_so(app, repos, accounts) -> None:
    client, project = _project(app, repos, accounts)
    page = client.get(f"/projets/{project}/communautes")
    assert "pas encore été construit" in _t(page)
    assert "pas encore de fiches" in _t(client.get(f"/projets/{project}/contacts")).lower()
    assert client.get(f"/projets/{project}/communautes/structures.geojson").status_code == 404
    home = _t(client.get(f"/projets/{project}"))
    assert '<ul class="ecrans">' in home
    assert f'href="/projets/{project}/communautes"' in home


def test_contact_changes_history_and_list(built) -> None:
    client, project = built
    ident = _identifiant(client, project, "Coop Démo (FICTIVE)")
    url = f"/projets/{project}/contacts/{ident}"
    page = client.get(url)
    assert page.status_code == 200
    assert "à contacter" in _t(page)
    token = csrf(client, url)
    steps = [
        ("statut", {"statut": "interesse", "note": "Rencontrée au forum"}),
        ("note", {"texte": "Rappeler en janvier"}),
        ("action", {"action": "Envoyer la présentation", "echeance": "2027-01-15"}),
        ("responsable", {"responsable": "Camille"}),
    ]
    for version, (form, data) in enumerate(steps, start=1):
        done = client.post(
            f"{url}/{form}",
            data={**data, "version": str(version), "csrf_token": token},
            follow_redirects=False,
        )
        assert done.status_code == 303, (form, _t(done)[-2000:])
    page = _t(client.get(url))
    assert "intéressé" in page
    assert "à contacter → intéressé — Rencontrée au forum" in page
    assert "Rappeler en janvier" in page
    assert "15/01/2027" in page
    assert "Camille" in page
    assert "charge@exemple.fr" in page or "charge" in page
    listing = _t(client.get(f"/projets/{project}/contacts", params={"statut": "interesse"}))
    assert "Coop Démo (FICTIVE)" in listing
    assert "Envoyer la présentation" in listing
    assert "Bourg" in listing or "FICTIF" in listing  # commune names, not codes
    assert "SCIC Numérique" not in listing
    owned = _t(client.get(f"/projets/{project}/contacts", params={"responsable": "Camille"}))
    assert "Coop Démo (FICTIVE)" in owned
    due = client.get(f"/projets/{project}/contacts", params={"echeance_avant": "2027-01-01"})
    assert "Coop Démo (FICTIVE)" not in _t(due).split("<h2>", 1)[1]
    bad = client.get(f"/projets/{project}/contacts", params={"echeance_avant": "demain"})
    assert bad.status_code == 422
    empty = client.post(f"{url}/note", data={"texte": " ", "version": "5", "csrf_token": token})
    assert empty.status_code == 422
    assert "La note est vide" in _t(empty)
    outside = client.get(f"/projets/{project}/contacts/siret:00000000000000")
    assert outside.status_code == 404


def test_a_concurrent_change_shows_both_versions_and_keeps_yours(
    app, built, accounts, repos
) -> None:
    client, project = built
    ident = _identifiant(client, project, "Coop Démo (FICTIVE)")
    url = f"/projets/{project}/contacts/{ident}"
    token = csrf(client, url)
    # a colleague changes the status first (version 1 -> 2)
    from web_helpers import PASSWORD  # noqa: PLC0415

    from tierslieux.pipeline.accounts import add_user  # noqa: PLC0415

    add_user(repos, "collegue@exemple.fr", role="charge_de_mission", actor="t", password=PASSWORD)
    colleague_user = repos.users.get_user("collegue@exemple.fr")
    repos.projects.add_member(project, colleague_user.id, actor="test")
    colleague = logged_in(app, "collegue@exemple.fr")
    other_token = csrf(colleague, url)
    first = colleague.post(
        f"{url}/statut",
        data={"statut": "contacte", "version": "1", "csrf_token": other_token},
        follow_redirects=False,
    )
    assert first.status_code == 303
    # you still had version 1
    second = client.post(
        f"{url}/note",
        data={"texte": "Ma note à ne pas perdre", "version": "1", "csrf_token": token},
    )
    assert second.status_code == 409
    text = _t(second)
    assert "Conflit" in text
    assert "collegue" in text
    assert "à contacter → contacté" in text
    assert "Ma note à ne pas perdre" in text  # yours, kept in the form
    assert 'name="version" value="2"' in text
    assert "Appliquer ma modification sur la version 2" in text
    assert len(repos.contacts.get_contact(ident).history) == 1
    again = client.post(
        f"{url}/note",
        data={"texte": "Ma note à ne pas perdre", "version": "2", "csrf_token": token},
        follow_redirects=False,
    )
    assert again.status_code == 303
    history = repos.contacts.get_contact(ident).history
    assert [e.kind for e in history] == ["statut", "note"]
    actions = [e.action for e in repos.audit.entries()]
    assert "contact.statut" in actions
    assert "contact.note" in actions


def test_export_then_import_with_a_conflict_listed(built, repos) -> None:
    client, project = built
    ident = _identifiant(client, project, "Coop Démo (FICTIVE)")
    exported = client.get(f"/projets/{project}/contacts/export", params={"format": "csv"})
    assert exported.status_code == 200
    text = exported.content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    states = [r for r in rows if r["ligne"] == "etat"]
    assert {r["nom"] for r in states} >= {"Coop Démo (FICTIVE)", "SCIC Numérique Démo (FICTIVE)"}
    assert all(r["statut"] == "à contacter" for r in states)
    assert any(r["commune"] for r in states)
    xlsx = client.get(f"/projets/{project}/contacts/export", params={"format": "xlsx"})
    assert xlsx.content[:2] == b"PK"
    # the file is edited while a colleague changes the same record in the database
    repos.contacts.set_status(ident, "partenaire", author="collegue")
    for row in states:
        if row["identifiant"] == ident:
            row["statut"] = "pas intéressé"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), delimiter=";")
    writer.writeheader()
    writer.writerows(rows)
    token = csrf(client, f"/projets/{project}/contacts")
    imported = client.post(
        f"/projets/{project}/contacts/import",
        data={"csrf_token": token},
        files={"file": ("contacts.csv", out.getvalue().encode("utf-8-sig"), "text/csv")},
    )
    assert imported.status_code == 200, _t(imported)[-2000:]
    assert "Conflits" in _t(imported)
    assert "pas intéressé" in _t(imported)
    assert "partenaire" in _t(imported)
    assert "collegue" in _t(imported)
    assert repos.contacts.get_contact(ident).status == "partenaire"
    broken = client.post(
        f"/projets/{project}/contacts/import",
        data={"csrf_token": token},
        files={"file": ("contacts.csv", b"pas;un;export\n1;2;3\n", "text/csv")},
    )
    assert broken.status_code == 422


def test_rebuilding_keeps_the_contact_history(app, built, repos) -> None:
    client, project = built
    ident = _identifiant(client, project, "Coop Démo (FICTIVE)")
    repos.contacts.add_note(ident, "Avant la reconstruction", author="test")
    _build(app, client, project)
    assert repos.contacts.get_contact(ident).history[-1].text == "Avant la reconstruction"


def test_the_contact_pages_are_the_records_of_the_full_list(app, built, repos) -> None:
    """The page read in SQL (filters, then one page of records) is the slice of the full
    list ``contacts list`` gives, in its order; structures of another project's directory
    are left out of the page, the counts and the owners."""
    from tierslieux.pipeline.project_communities import (  # noqa: PLC0415
        project_contact_page,
        project_contacts,
        project_directory,
    )

    _client, project = built
    settings = app.state.settings.core
    directory = project_directory(repos, project)
    assert directory is not None
    repos.structures.upsert_structures(
        [
            {
                "identifiant": "autre:1",
                "nom": "AAA Ailleurs",
                "categorie": "cae",
                "code_commune": "00101",
            }
        ]
    )
    repos.contacts.set_owner("autre:1", "Quelqu'un d'ailleurs", author="test")
    everything = project_contacts(settings, directory)
    ident = everything[3].identifiant
    repos.contacts.set_owner(ident, "Camille", author="test")
    everything = project_contacts(settings, directory)
    assert "autre:1" not in {c.identifiant for c in everything}
    pages = [project_contact_page(settings, directory, page=n, rows=2) for n in (1, 2, 3, 99)]
    assert pages[0].total == pages[0].shown == len(everything) > 4
    assert pages[0].owners == ["Camille"]
    assert pages[0].pages == -(-len(everything) // 2)
    assert [c.identifiant for c in pages[0].contacts] == [c.identifiant for c in everything[:2]]
    assert [c.identifiant for c in pages[1].contacts] == [c.identifiant for c in everything[2:4]]
    assert pages[3].page == pages[3].pages  # brought within the pages there are
    assert [c.identifiant for c in pages[3].contacts] == [
        c.identifiant for c in everything[(pages[3].page - 1) * 2 :]
    ]
    owned = project_contact_page(settings, directory, owner="Camille")
    assert (owned.shown, owned.total) == (1, len(everything))
    assert [c.identifiant for c in owned.contacts] == [ident]
    commune = everything[0].code_commune
    by_commune = project_contact_page(settings, directory, commune=commune, rows=1000)
    assert [c.identifiant for c in by_commune.contacts] == [
        c.identifiant for c in project_contacts(settings, directory, commune=commune)
    ]


def test_an_import_refuses_the_lines_of_structures_outside_the_directory(built, repos) -> None:
    """A structure of the store that is not in the project's directory (another
    project's) cannot be changed through this project's import: each of its lines is
    refused, naming the line and the structure; with « partial » the others apply."""
    client, project = built
    repos.structures.upsert_structures(
        [{"identifiant": "autre:1", "nom": "Asso d'ailleurs", "categorie": "cae"}]
    )
    exported = client.get(f"/projets/{project}/contacts/export", params={"format": "csv"})
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig")), delimiter=";"))
    assert "autre:1" not in {r["identifiant"] for r in rows}
    mine = next(r for r in rows if r["ligne"] == "etat")
    mine["statut"] = "contacté"
    outsider = dict(mine, identifiant="autre:1", nom="Asso d'ailleurs", statut="partenaire")
    rows.append(outsider)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), delimiter=";")
    writer.writeheader()
    writer.writerows(rows)
    content = out.getvalue().encode("utf-8-sig")
    line = len(rows) + 1  # the header is line 1
    token = csrf(client, f"/projets/{project}/contacts")

    def send(**fields: str):
        return client.post(
            f"/projets/{project}/contacts/import",
            data={"csrf_token": token, **fields},
            files={"file": ("contacts.csv", content, "text/csv")},
        )

    refused = send()
    assert refused.status_code == 422
    text = _t(refused)
    assert f"ligne {line}" in text
    assert "« Asso d'ailleurs » (autre:1) n'est pas dans l'annuaire de ce projet" in text
    assert repos.contacts.get_contact(mine["identifiant"]).status == "a_contacter"
    partial = send(partiel="1")
    assert partial.status_code == 200, _t(partial)[-2000:]
    assert f"ligne {line}" in _t(partial)
    assert repos.contacts.get_contact(mine["identifiant"]).status == "contacte"
    assert repos.contacts.get_contact("autre:1").status == "a_contacter"


def test_the_screens_offer_web_actions_never_commands(app, built, accounts) -> None:
    """Web users never type commands: no « tierslieux … » on the directory and contacts
    screens, for the chargé de mission (who has the button) or the lecteur."""
    client, project = built
    reader = logged_in(app, accounts["lecteur"])
    for who in (client, reader):
        for path in ("communautes", "contacts"):
            page = _t(who.get(f"/projets/{project}/{path}"))
            assert not re.search(r"tierslieux [a-z]", page.split("<main", 1)[1]), path
    page = _t(client.get(f"/projets/{project}/communautes"))
    assert 'action="/projets/' in page
    assert "Construire l'annuaire" in page
    assert "Les fichiers de cet annuaire, à télécharger :" in page


#: Names that differ by case and accents only in their first letter.
SORTED_ACTORS = (
    "nom,categorie,code_commune,themes,raison\n"
    "Zèbre Démo (FICTIF),association_teleactivites,00103,tic,\n"
    "abeille Démo (FICTIVE),association_teleactivites,00103,tic,\n"
    "Écureuil Démo (FICTIF),association_teleactivites,00103,tic,\n"
)


def test_lists_sort_names_ignoring_case_and_accents_and_show_display_names(
    app, repos, accounts
) -> None:
    """« abeille » before « Écureuil » before « Zèbre » in the directory and the contacts
    list; the history names its authors by display name, the login as title."""
    client, project = _project(app, repos, accounts, actors=SORTED_ACTORS, name="Tri")
    _build(app, client, project)
    wanted = ["abeille Démo (FICTIVE)", "Écureuil Démo (FICTIF)", "Zèbre Démo (FICTIF)"]
    for path in ("communautes", "contacts"):
        page = _t(client.get(f"/projets/{project}/{path}"))
        places = [page.find(f">{name}<") for name in wanted]
        assert all(p > 0 for p in places), (path, places)
        assert places == sorted(places), path

    from web_helpers import PASSWORD  # noqa: PLC0415

    from tierslieux.pipeline.accounts import add_user  # noqa: PLC0415

    camille = add_user(
        repos,
        "camille.martin@exemple.fr",
        role="charge_de_mission",
        actor="test",
        password=PASSWORD,
        display_name="Camille Martin",
    )
    repos.projects.add_member(project, camille.id, actor="test")
    colleague = logged_in(app, "camille.martin@exemple.fr")
    ident = _identifiant(colleague, project, "Zèbre Démo (FICTIF)")
    url = f"/projets/{project}/contacts/{ident}"
    done = colleague.post(
        f"{url}/note",
        data={"texte": "Appelée", "version": "1", "csrf_token": csrf(colleague, url)},
        follow_redirects=False,
    )
    assert done.status_code == 303, _t(done)
    page = _t(colleague.get(url))
    assert camille.login == "camille.martin"
    shown = '<span class="personne" title="camille.martin">Camille Martin</span>'
    assert f"<td>{shown}</td>" in page  # the history
    assert f"par {shown}" in page  # « modifiée le … par … »
    assert "<td>camille.martin</td>" not in page
    listing = _t(colleague.get(f"/projets/{project}/contacts"))
    assert f"({shown})" in listing
    # a display name equal to the login is written once, without a title
    directory = _t(colleague.get(f"/projets/{project}/communautes"))
    assert re.search(r"Construit le [^<]+ par charge\.", directory), directory[-3000:]


def test_map_documents_come_gzipped_with_an_etag_then_not_modified(built) -> None:
    """The maps' GeoJSON: gzip when the client takes it (the same document once
    decompressed), the bytes as they are otherwise, and ``304`` without a body when
    the browser already holds it (rights still checked: see the outsiders' test)."""
    client, project = built
    for path in ("communes.geojson", "structures.geojson"):
        url = f"/projets/{project}/communautes/{path}"
        plain = client.get(url, headers={"Accept-Encoding": "identity"})
        zipped = client.get(url, headers={"Accept-Encoding": "gzip, deflate"})
        refused = client.get(url, headers={"Accept-Encoding": "gzip;q=0, identity"})
        assert plain.status_code == zipped.status_code == 200
        assert "content-encoding" not in plain.headers
        assert "content-encoding" not in refused.headers
        assert zipped.headers["content-encoding"] == "gzip", path
        assert int(zipped.headers["content-length"]) < len(plain.content) / 2, path
        assert zipped.json() == plain.json() == refused.json()
        assert "Accept-Encoding" in zipped.headers["vary"]
        etag = plain.headers["etag"]
        assert zipped.headers["etag"] == etag
        again = client.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304
        assert again.content == b""
        other = client.get(url, headers={"If-None-Match": '"autre"'})
        assert other.status_code == 200
        assert other.json() == plain.json()
    filtered = client.get(
        f"/projets/{project}/communautes/structures.geojson", params={"etape": "1"}
    )
    assert filtered.headers["etag"] != plain.headers["etag"]


def test_the_points_step_labels_follow_each_installation_language(
    built, web_settings, accounts
) -> None:
    """The points of one directory, asked by a French then an English installation in
    the same process, come with each one's step labels (the kept points are per
    language)."""
    client, project = built
    url = f"/projets/{project}/communautes/structures.geojson"
    french = client.get(url).json()["features"]
    english_settings = dataclasses.replace(
        web_settings, core=web_settings.core.model_copy(update={"lang": "en"})
    )
    english_client = logged_in(create_app(english_settings), accounts["charge_de_mission"])
    english = english_client.get(url).json()["features"]
    with use_language("en"):
        expected = step_labels()
    assert [f["properties"]["etape_libelle"] for f in english] == [
        expected[f["properties"]["etape"]] for f in english
    ]
    assert [f["properties"]["etape_libelle"] for f in french] != [
        f["properties"]["etape_libelle"] for f in english
    ]
