"""Walk every page of an English installation and find French left in its visible text.

The project of the walk has all a chargé de mission can see: a built directory of
structures, a finished diagnostic and dossier, an imported questionnaire export, a
campaign with answers (on line and on paper), saved scenarios and a finished sites run.
"""

from __future__ import annotations

import dataclasses
import re
from html.parser import HTMLParser

from fastapi.testclient import TestClient
from sites_runs import store_done_run
from test_web_communities import ACTORS
from test_web_public import GOOD, _campaign, _code, _form, _receipt, _send
from test_web_questionnaire import EXPORT, _staged_token
from web_helpers import csrf, logged_in

from tierslieux.i18n import use_language
from tierslieux.web.app import create_app
from tierslieux.web.settings import WebSettings

#: Attributes whose text a user reads (tooltips, screen readers, empty fields, images).
READ_ATTRIBUTES = ("title", "aria-label", "placeholder", "alt")
#: Elements whose content is not read as text (``code``: identifiers, the same in every
#: language: a question's code, a login, an action of the journal).
HIDDEN_ELEMENTS = {"script", "style", "template", "code"}

#: Letters that English never writes (the demo's data names aside).
FRENCH_LETTERS = re.compile(r"[àâäçéèêëîïôöùûüÿœæ]", re.IGNORECASE)
#: Common French words that are no English words.
FRENCH_WORDS = re.compile(
    r"\b(?:de|des|du|les|le|la|et|pour|par|sur|avec|dans|est|sont|une|aucun|aucune|ou|au|"
    r"aux|ce|cette|ces|vos|votre|nous|vous|pas|qui|que|sans|selon|entre|projet|projets|"
    r"fichier|fichiers|carte|calcul|calculs|donn[ée]es|r[ée]sultats?|t[ée]l[ée]charger|"
    r"enregistrer|lancer|annuler|fermer|ouvrir|retour|voir|modifier|supprimer|ajouter|"
    r"importer|exporter|rechercher|filtrer|suivant|pr[ée]c[ée]dent|oui|non|mois|jours?|"
    r"ann[ée]es?|habitants|structures? d[eu]|questionnaire d[eu]|cr[ée]er|tous|toutes)\b",
    re.IGNORECASE,
)


class VisibleText(HTMLParser):
    """The texts of a page a user reads: its text nodes and a few attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in HIDDEN_ELEMENTS:
            self._hidden += 1
        values = dict(attrs)
        for name in READ_ATTRIBUTES:
            if values.get(name):
                self.texts.append(str(values[name]))
        if tag == "input" and values.get("type") in {"submit", "button"} and values.get("value"):
            self.texts.append(str(values["value"]))

    def handle_endtag(self, tag: str) -> None:
        if tag in HIDDEN_ELEMENTS and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden and data.strip():
            self.texts.append(" ".join(data.split()))


def visible_texts(page: str) -> list[str]:
    """The visible texts of an HTML page, one per text node or read attribute."""
    parser = VisibleText()
    parser.feed(page)
    parser.close()
    return parser.texts


def french_texts(page: str, allowed: tuple[str, ...] = ()) -> list[str]:
    """The visible texts of ``page`` that read as French, once ``allowed`` (data names)
    are taken out of them."""
    found = []
    for text in visible_texts(page):
        rest = text
        for name in allowed:
            rest = rest.replace(name, " ")
        if FRENCH_LETTERS.search(rest) or FRENCH_WORDS.search(rest):
            found.append(text)
    return found


def english_settings(web_settings: WebSettings) -> WebSettings:
    return dataclasses.replace(
        web_settings, core=web_settings.core.model_copy(update={"lang": "en"})
    )


def _location(response) -> str:
    assert response.status_code == 303, response.text[-2000:]
    return response.headers["location"]


def _wait(app, location: str) -> str:
    run_id = location.rsplit("/", 1)[1]
    assert app.state.runs.wait(run_id, 180)
    run = app.state.repos.runs.get_run(run_id)
    assert run.status == "done", run.error
    return run_id


def full_project(app, accounts, repos) -> dict[str, object]:
    """A project of the demo territory with everything a chargé de mission can see."""
    charge = logged_in(app, accounts["charge_de_mission"])
    token = csrf(charge, "/projets/nouveau")
    project = int(
        _location(
            charge.post(
                "/projets",
                data={"name": "Demo", "territory": "dep:00", "csrf_token": token},
                follow_redirects=False,
            )
        ).rsplit("/", 1)[1]
    )
    repos.projects.add_member(project, repos.users.get_user(accounts["lecteur"]).id, actor="test")
    base = f"/projets/{project}"
    uploaded = charge.post(
        f"{base}/fichiers",
        data={"role": "acteurs", "csrf_token": token},
        files={"file": ("acteurs.csv", ACTORS.encode("utf-8"), "text/csv")},
        follow_redirects=False,
    )
    _location(uploaded)
    runs = {}
    runs["directory"] = _wait(
        app,
        _location(
            charge.post(
                f"{base}/communautes/construire",
                data={"csrf_token": token},
                follow_redirects=False,
            )
        ),
    )
    runs["diagnostic"] = _wait(
        app,
        _location(
            charge.post(f"{base}/diagnostic", data={"csrf_token": token}, follow_redirects=False)
        ),
    )
    runs["dossier"] = _wait(
        app,
        _location(
            charge.post(f"{base}/dossier", data={"csrf_token": token}, follow_redirects=False)
        ),
    )
    # the questionnaire's export, imported
    review = charge.post(
        f"{base}/questionnaire/import",
        data={"csrf_token": token},
        files={"file": (EXPORT.name, EXPORT.read_bytes(), "text/csv")},
    )
    assert review.status_code == 200, review.text[-2000:]
    staged = _staged_token(review.text)
    imported = charge.post(f"{base}/questionnaire/import/{staged}", data={"csrf_token": token})
    assert imported.status_code == 200, imported.text[-2000:]
    # a campaign, answered on line and on paper
    campaign, slug = _campaign(
        charge,
        project,
        titre="Your needs for a tiers-lieu",
        responsable="Demo community of communes",
        finalite="To study the creation of a tiers-lieu.",
    )
    public = TestClient(app)
    _text, hidden = _form(public, slug)
    sent = _send(public, slug, hidden)
    assert sent.status_code == 200, sent.text[-2000:]
    code = _code(sent.text)
    desk = f"{base}/questionnaire/campagnes/{campaign}"
    paper = charge.post(
        desk + "/papier",
        data={**GOOD, "csrf_token": csrf(charge, desk + "/papier"), "feuille": "1"},
        follow_redirects=False,
    )
    assert paper.status_code in {200, 303}, paper.text[-2000:]
    # two saved scenarios, and a finished sites run of the first
    for name, count in (("Two sites", "2"), ("Three sites", "3")):
        data = {"name": name, "count": count, "objective": "couverture", "_cases": "1"}
        data |= {"distinct_themes": "1", "neighbours": "1", "tiers_lieux_mode": "garder"}
        data |= {"rural": "non", "time_limit": "10", "gain_minimal": "10"}
        data |= {"min_structures": "1", "min_per_epci": "0", "action": "enregistrer"}
        data["csrf_token"] = csrf(charge, f"{base}/sites")
        saved = charge.post(f"{base}/sites", data=data, follow_redirects=False)
        assert saved.status_code in {200, 303}, saved.text[-2000:]
    scenarios = sorted(
        (s for s in repos.scenarios.list_scenarios() if s.parameters["projet"] == project),
        key=lambda s: s.id,
    )
    assert len(scenarios) == 2
    with use_language("en"):  # the web's jobs run in the installation's language
        runs["sites"] = store_done_run(repos, project, scenarios[0].id, author="charge")
    return {
        "charge": charge,
        "public": public,
        "project": project,
        "campaign": campaign,
        "slug": slug,
        "hidden": hidden,
        "code": code,
        "runs": runs,
        "scenarios": [s.id for s in scenarios],
    }


def pages(app, accounts, built: dict[str, object]) -> dict[str, str]:
    """Every HTML page of the walk: path -> page."""
    charge: TestClient = built["charge"]  # type: ignore[assignment]
    public: TestClient = built["public"]  # type: ignore[assignment]
    project = built["project"]
    base = f"/projets/{project}"
    runs: dict[str, str] = built["runs"]  # type: ignore[assignment]
    desk = f"{base}/questionnaire/campagnes/{built['campaign']}"
    paths = [
        "/projets",
        "/projets/nouveau",
        base,
        f"{base}/questionnaire",
        f"{base}/questionnaire/resultats",
        f"{base}/questionnaire/questionnaire.html",
        f"{base}/diagnostic",
        f"{base}/sites",
        f"{base}/sites/{runs['sites']}",
        f"{base}/scenarios/comparer?ids=" + ",".join(map(str, built["scenarios"])),  # type: ignore[call-overload]
        f"{base}/dossier",
        f"{base}/communautes",
        f"{base}/contacts",
        f"{base}/questionnaire/campagnes/nouvelle",
        desk,
        f"{desk}/questionnaire.html",
        f"{desk}/papier",
    ]
    for run_id in runs.values():
        paths += [f"{base}/calculs/{run_id}", f"{base}/calculs/{run_id}/etat"]
        paths.extend(
            f"{base}/calculs/{run_id}/fichiers/{result.name}"
            for result in app.state.repos.runs.list_results(run_id)
            if result.name.endswith(".html")
        )
    found: dict[str, str] = {}
    for path in paths:
        response = charge.get(path)
        assert response.status_code == 200, (path, response.status_code)
        found[path] = response.text
    contacts = re.findall(rf'href="({base}/contacts/[^"?#]+)"', found[f"{base}/communautes"])
    assert contacts
    for path in sorted(set(contacts))[:2]:
        response = charge.get(path)
        assert response.status_code == 200, path
        found[path] = response.text
    admin = logged_in(app, accounts["administrateur"])
    for path in ("/admin/utilisateurs", "/admin/journal"):
        found[path] = admin.get(path).text
    anonymous = TestClient(app)
    found["/connexion"] = anonymous.get("/connexion").text
    slug = built["slug"]
    found[f"/q/{slug}"] = public.get(f"/q/{slug}").text
    receipt = _receipt(public, slug, built["hidden"], built["code"])  # type: ignore[arg-type]
    assert receipt.status_code == 200, receipt.text[-2000:]
    found[f"/q/{slug}/recu (POST)"] = receipt.text
    found[f"/q/{slug}/recu"] = public.get(f"/q/{slug}/recu").text
    return found


def english_app(web_settings: WebSettings):
    return create_app(english_settings(web_settings))
