"""The whole method in the browser on a REAL territory, from files on disk.

Issue 13's « Done when », walked as a new user: a chargé de mission logs in, finds the
Communauté de communes Buëch-Dévoluy (Hautes-Alpes, 20 communes) by its official name,
uploads its input files — first a wrong CSV and a file of another format, refused with
a message naming the file and what was expected — then runs the diagnostic (the key
figures equal those of ``tierslieux diagnose`` on the same files), builds the directory
of base communities, changes a contact's status while a colleague changes it too (the
conflict is shown, nothing lost), opens the questionnaire and runs a site selection; a
lecteur sees every screen with no form that changes anything, and each POST is 403.

Data: the real extracts of ``../shared/data/real`` (read in place, never copied into
the repository) and, since they hold no census file, a MOBPRO written by
``tierslieux synth mobpro`` from their communes: every figure is SYNTHETIC and the
pages must say so.  Skipped, with the reason, when ``../shared`` or a needed file is
absent.  Each page passes axe-core (0 serious or critical violations); screenshots go to
``build/screenshots/`` (``$TIERSLIEUX_SCREENSHOTS``).
"""

from __future__ import annotations

import csv
import html
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from browser_app import Served, serve_application

from tierslieux.config import Settings
from tierslieux.i18n import format_datetime, format_number
from tierslieux.model.indicators import indicator_labels
from tierslieux.model.siting import format_gap
from tierslieux.pipeline.inputs import InputFiles
from tierslieux.pipeline.workspace import build_workspace

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
REAL = ROOT.parent / "shared" / "data" / "real"
NEEDED = {
    "communes": REAL / "communes" / "communes.csv",
    "contours": REAL / "communes" / "communes-provence-alpes-cote-d-azur.geojson",
    "zonages": REAL / "zonages" / "table_supracom_2024_PACA.csv",
    "tiers_lieux": REAL / "tiers_lieux" / "CGET_TiersLieux_2019.csv",
    "gares": REAL / "gares" / "gares-de-voyageurs.csv",
}
TERRITORY = "epci:200067445"
TERRITORY_NAME = "Communauté de communes Buëch-Dévoluy"
CONTACT = "epci:200067445"
SHOTS = Path(os.environ.get("TIERSLIEUX_SCREENSHOTS", ROOT / "build" / "screenshots"))
USERS = {
    "charge@exemple.fr": ("charge_de_mission", "mot de passe du parcours réel"),
    "collegue@exemple.fr": ("charge_de_mission", "mot de passe de la collègue"),
    "elu@exemple.fr": ("lecteur", "mot de passe de l'élu"),
}
#: A PNG where a CSV is expected (its 8-byte signature, then bytes no text encoding reads).
NOT_A_CSV = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


@dataclass
class Journey:
    """The application served over the real extracts, and what the journey built."""

    served: Served
    mobpro: Path
    cli_out: Path
    wrong_zonages: Path
    project: int | None = None
    shots: dict[str, bytes] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.served.url

    def project_url(self, tail: str = "") -> str:
        assert self.project is not None, "le projet est créé par le premier test du parcours"
        return f"{self.url}/projets/{self.project}{tail}"


def _tierslieux(*args: str, cache: Path) -> str:
    """Run the command line; return what it printed on standard output."""
    env = os.environ | {
        "TIERSLIEUX_CACHE_DIR": str(cache),
        "TIERSLIEUX_LANG": "fr",
        "COLUMNS": "2000",
    }
    done = subprocess.run(  # noqa: S603 - this interpreter, arguments written here
        [sys.executable, "-m", "tierslieux", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def journey(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Journey]:
    if not REAL.is_dir():
        pytest.skip("../shared/data/real absent : parcours sur territoire réel ignoré")
    missing = [str(path) for path in NEEDED.values() if not path.is_file()]
    if missing:
        pytest.skip(f"extraits réels absents : {', '.join(missing)}")
    root = tmp_path_factory.mktemp("parcours-reel")
    cache = root / "cache"
    files = root / "fichiers"
    files.mkdir()
    # No census file among the real extracts: a synthetic one, as the README says.
    _tierslieux(
        "synth",
        "mobpro",
        "--communes",
        str(NEEDED["communes"]),
        "--territory",
        "dep:05",
        "--rows",
        "20000",
        "--out",
        str(files / "FD_MOBPRO_2021.csv"),
        cache=cache,
    )
    mobpro = files / "FD_MOBPRO_2021_synthetique.csv"
    assert mobpro.is_file()
    # The officer's copy holds the census file alone (its sidecar stays behind).
    (files / "FD_MOBPRO_2021_synthetique.csv.synthetic.json").unlink()
    # The command line on the same files, for the figures of the diagnostic screen.
    cli_out = root / "diagnostic-cli"
    _tierslieux(
        "diagnose",
        "--territory",
        TERRITORY,
        "--communes",
        str(NEEDED["communes"]),
        "--communes",
        str(NEEDED["contours"]),
        "--zonages",
        str(NEEDED["zonages"]),
        "--mobpro",
        str(mobpro),
        "--offline",
        "--out",
        str(cli_out),
        cache=cache,
    )
    # The installation's workspace (names and contours of the communes), built once by
    # whoever installs the application; the project brings its own zonings and census.
    workspace = root / "workspace"
    build_workspace(
        Settings(cache_dir=cache, offline=True),
        workspace,
        InputFiles(communes=(NEEDED["communes"], NEEDED["contours"]), zonages=NEEDED["zonages"]),
    )
    wrong = files / "zonages_colonne_renommee.csv"
    lines = NEEDED["zonages"].read_text(encoding="utf-8").splitlines()[:5]
    wrong.write_text("\n".join([lines[0].replace("CODGEO", "COMMUNE_X"), *lines[1:]]) + "\n")
    with serve_application(root, USERS, workspace, data_dir=REAL, run_workers=2) as served:
        walked = Journey(served, mobpro, cli_out, wrong)
        yield walked
    SHOTS.mkdir(parents=True, exist_ok=True)
    for name, png in walked.shots.items():
        (SHOTS / name).write_bytes(png)


def _shot(journey: Journey, page: Any, name: str) -> None:
    """Keep a full-page screenshot, written when the journey ends (the browser tests
    empty the folder at their first page's end)."""
    journey.shots[f"reel_{name}.png"] = page.screenshot(full_page=True)


def _words(text: str) -> str:
    """``text`` with its spaces (no-break ones too) as single plain spaces."""
    return " ".join(text.split())


def _log_in(page: Any, journey: Journey, email: str) -> None:
    page.goto(f"{journey.url}/connexion")
    page.fill("#champ-login", email)
    page.fill("#champ-password", USERS[email][1])
    page.click("button[type=submit]:has-text('Se connecter')")
    page.wait_for_url(f"{journey.url}/projets")


def _upload(page: Any, role: str, file: Any) -> str:
    page.select_option("#champ-role", role)
    page.set_input_files("#champ-file", file)
    page.click("button:has-text('Déposer et vérifier')")
    page.wait_for_load_state()
    error = page.locator("#erreur-file")
    return str(error.inner_text()) if error.count() else ""


def _wait_for_run(journey: Journey, page: Any) -> str:
    page.wait_for_url(re.compile(r".*/(calculs|sites)/[^/]+$"))
    run_id = str(page.url.rsplit("/", 1)[1])
    assert journey.served.app.state.runs.wait(run_id, 150)
    run = journey.served.repos.runs.get_run(run_id)
    assert run.status == "done", run.error
    return run_id


def test_a_project_from_real_files_with_clear_refusals(
    browser_page: Any, journey: Journey, axe_check: Any
) -> None:
    page = browser_page
    _log_in(page, journey, "charge@exemple.fr")
    page.click("a:has-text('Nouveau projet')")
    page.fill("input[name=q]", "Buëch-Dévoluy")
    page.click("button:has-text('Chercher')")
    page.check(f"input[name=territory][value='{TERRITORY}']")
    page.fill("#champ-name", "Buëch-Dévoluy : tiers-lieux ruraux")
    axe_check(page)
    page.click("button:has-text('Créer le projet')")
    page.wait_for_url(re.compile(r".*/projets/\d+$"))
    journey.project = int(page.url.rsplit("/", 1)[1])
    heading = page.inner_text(".sous-titre")
    assert f"{TERRITORY_NAME} (EPCI 200067445, 20 communes)" in heading

    # A CSV with a wrong column: refused, naming the file and the column expected.
    message = _upload(page, "zonages", str(journey.wrong_zonages))
    assert "zonages_colonne_renommee.csv" in message
    assert "CODGEO" in message
    assert "/tmp" not in message  # noqa: S108 - a path that must not show
    assert "tierslieux-upload" not in message
    assert page.get_attribute("#champ-file", "aria-invalid") == "true"
    assert page.input_value("#champ-role") == "zonages"
    _shot(journey, page, "01_fichier_refuse_colonne")
    axe_check(page)
    # A file of another format.
    message = _upload(
        page, "zonages", {"name": "carte.png", "mimeType": "image/png", "buffer": NOT_A_CSV}
    )
    assert "carte.png" in message
    assert "refusé" in message
    assert "Traceback" not in page.content()
    _shot(journey, page, "02_fichier_refuse_format")

    assert _upload(page, "zonages", str(NEEDED["zonages"])) == ""
    assert _upload(page, "mobpro", str(journey.mobpro)) == ""
    table = page.inner_text("main table")
    assert "table_supracom_2024_PACA.csv" in table
    assert "COG 2024" in table
    assert "SYNTHÉTIQUE" in table  # the census file uploaded alone keeps its mark
    for login in ("collegue@exemple.fr", "elu@exemple.fr"):
        page.fill("#champ-login", login)
        page.click("button:has-text('Ajouter')")
        page.wait_for_load_state()
    members = page.inner_text("main")
    assert "collegue@exemple.fr" in members or "collegue" in members
    assert "lecteur" in members
    _shot(journey, page, "03_projet_fichiers")
    axe_check(page)


def _cli_figures(folder: Path) -> dict[str, str]:
    """The key figures of the command line's report: label -> figure as printed."""
    report = (folder / "report.html").read_text(encoding="utf-8")
    found = re.findall(r'class="chiffre"><b>([^<]*)</b>([^<]*)', report)
    return {html.unescape(label).strip(): html.unescape(value) for value, label in found}


def _cli_totals(folder: Path) -> dict[str, float]:
    """Column sums of the command line's communes.csv (cells rounded to 0.1)."""
    with (folder / "communes.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 20
    names = indicator_labels()
    return {name: sum(float(row[name] or 0) for row in rows) for name in names if name in rows[0]}


def test_the_diagnostic_shows_the_command_line_figures(
    browser_page: Any, journey: Journey, axe_check: Any
) -> None:
    page = browser_page
    _log_in(page, journey, "charge@exemple.fr")
    page.goto(journey.project_url())
    page.click("ul.ecrans a:has-text('Diagnostic territorial')")
    assert "Aucun diagnostic" in page.inner_text("main")  # the empty state
    page.click("main form button[type=submit]")
    _wait_for_run(journey, page)
    page.goto(journey.project_url("/diagnostic"))
    page.wait_for_selector('#carte[data-map-state="ready"]')
    assert "SYNTHÉTIQUE" in page.inner_text(".alerte")
    # Every key figure is the command line's total, rounded the same way.
    labels = {label: name for name, label in indicator_labels().items()}
    expected = _cli_figures(journey.cli_out)
    totals = _cli_totals(journey.cli_out)
    figures = page.locator(".chiffres .chiffre")
    assert figures.count() == len(expected) >= 8
    for index in range(figures.count()):
        figure = figures.nth(index)
        value = figure.locator("b").inner_text()
        label = figure.inner_text().replace(value, "", 1).strip()
        assert value == expected[label], (label, value, expected[label])
        # ... and the sum of the CSV's rows, whose cells are rounded to 0.1.
        shown = float(value.replace("\u202f", "").replace("\xa0", "").replace(",", "."))
        assert abs(shown - totals[labels[label]]) <= 0.05 * 20 + 0.5, label
    # The table: official names, one row per commune of the EPCI.
    assert page.locator("#communes tbody tr").count() == 20
    names = page.locator("#communes tbody td:first-child").all_inner_texts()
    assert "Veynes (05179)" in names
    assert "La Roche-des-Arnauds (05123)" in names
    _shot(journey, page, "04_diagnostic")
    axe_check(page)
    assert not page.outside_requests()


def test_directory_and_a_contact_changed_by_two_colleagues(
    browser_page: Any, chromium_browser: Any, journey: Journey, axe_check: Any
) -> None:
    page = browser_page
    _log_in(page, journey, "charge@exemple.fr")
    page.goto(journey.project_url("/communautes"))
    assert "pas encore été construit" in page.inner_text("main")  # the empty state
    page.click('button:has-text("Construire l\'annuaire")')
    _wait_for_run(journey, page)
    page.goto(journey.project_url("/communautes"))
    listing = page.inner_text("main")
    assert TERRITORY_NAME in listing
    assert "France services" in listing  # médiation numérique, from the data folder
    assert not re.search(r"tierslieux [a-z]", listing)  # web actions, never commands
    # Every structure is in the map's first view, those seated outside the territory too.
    page.wait_for_selector("#carte-annuaire[data-map-state=ready]", state="attached")
    unseen = page.evaluate(
        """() => {
            const handle = document.querySelector("#carte-annuaire").tierslieuxMap;
            const view = handle.map.getBounds();
            return handle.points.features
                .filter((f) => !view.contains(f.geometry.coordinates))
                .map((f) => f.properties.nom);
        }"""
    )
    assert unseen == []
    _shot(journey, page, "05_annuaire")
    axe_check(page)

    card = journey.project_url(f"/contacts/{CONTACT}")
    colleague_context = chromium_browser.new_context(
        locale="fr-FR", viewport={"width": 1280, "height": 900}
    )
    try:
        colleague = colleague_context.new_page()
        _log_in(colleague, journey, "collegue@exemple.fr")
        colleague.goto(card)
        page.goto(card)
        # The colleague saves first...
        colleague.select_option("#champ-statut", label="contacté")
        colleague.fill("#champ-statut-note", "Appel au service développement économique")
        colleague.click("form[action$='/statut'] button")
        colleague.wait_for_load_state()
        assert "contacté" in colleague.inner_text("main")
    finally:
        colleague_context.close()
    # ... then the officer, from the version read before: nothing is overwritten.
    page.select_option("#champ-statut", label="intéressé")
    page.fill("#champ-statut-note", "Rencontre en mairie de Veynes")
    page.click("form[action$='/statut'] button")
    page.wait_for_selector("text=Conflit")
    conflict = page.inner_text("main")
    assert "Appel au service développement économique" in conflict  # theirs
    assert "Rencontre en mairie de Veynes" in conflict  # mine, kept
    _shot(journey, page, "06_contact_conflit")
    axe_check(page)
    page.click("button:has-text('Appliquer ma modification')")
    page.wait_for_load_state()
    history = page.inner_text("main")
    assert "contacté → intéressé" in history
    assert "à contacter → contacté" in history


def test_the_questionnaire_screen(browser_page: Any, journey: Journey, axe_check: Any) -> None:
    page = browser_page
    _log_in(page, journey, "charge@exemple.fr")
    page.goto(journey.project_url())
    page.click("ul.ecrans a:has-text('Questionnaire')")
    text = page.inner_text("main")
    assert "Versions du questionnaire" in text
    assert "Aucune campagne" in text  # the empty state
    _shot(journey, page, "07_questionnaire")
    axe_check(page)


def test_the_questionnaire_results_without_answers(
    browser_page: Any, journey: Journey, axe_check: Any
) -> None:
    # The communes file has no EPCI column: the project's zonings give it (as for the
    # diagnostic), and a territory nobody answered on shows its empty state.
    page = browser_page
    _log_in(page, journey, "charge@exemple.fr")
    answer = page.goto(journey.project_url("/questionnaire/resultats"))
    assert answer is not None
    _shot(journey, page, "08_questionnaire_resultats")
    assert answer.status == 200
    text = page.inner_text("main")
    assert "Aucune commune ne correspond" not in text
    assert "Aucune réponse pour l'instant" in text
    axe_check(page)
    page.goto(journey.project_url("/questionnaire"))
    text = page.inner_text("main")
    assert "Aucune commune ne correspond" not in text
    assert "Aucune réponse pour l'instant" in text
    assert "--" not in text  # no command-line option named on a web page


def test_a_site_selection_on_the_real_territory(
    browser_page: Any, journey: Journey, axe_check: Any
) -> None:
    page = browser_page
    _log_in(page, journey, "charge@exemple.fr")
    page.goto(journey.project_url())
    page.click("ul.ecrans a:has-text('Sites d')")
    # The base communities: the directory built above, said with its date (Paris time).
    directory = journey.served.repos.runs.project_runs(
        journey.project, kind="communities", status="done"
    )[0]
    chosen = page.locator("#champ-structures option:checked").inner_text()
    assert (
        chosen == f"Dernier annuaire construit, calcul du {format_datetime(directory.finished_at)}"
    )
    assert "(--" not in page.inner_text("main")  # no command-line option on the form
    _shot(journey, page, "09a_sites_formulaire")
    page.fill("#champ-name", "Deux sites, 20 minutes")
    page.fill("#champ-count", "2")
    page.fill("#champ-time_limit", "20")
    page.click("button[value=lancer]")
    run_id = _wait_for_run(journey, page)
    page.reload()
    page.wait_for_selector('#carte-sites[data-map-state="ready"]')
    assert "SYNTHÉTIQUE" in page.inner_text(".alerte")
    run = journey.served.repos.runs.get_run(run_id)
    markers = page.locator("#carte-sites .carte-site")
    assert markers.count() == len(run.summary["sites"]) == 2
    assert page.locator("#tableau-sites tbody tr td:first-child").all_inner_texts() == ["1", "2"]
    headers = page.locator("#tableau-sites thead th").all_inner_texts()
    assert not {"Latitude ↕", "Longitude ↕"} & set(headers), headers
    assert len(set(headers)) == len(headers), headers
    _shot(journey, page, "09_sites")
    axe_check(page)
    # One number of people covered, the command line's on the same files, split between
    # the territory and its neighbours; the proven gap as achieved, the tolerance named.
    summary = _words(page.inner_text("main"))
    assert "Usagers potentiels couverts :" not in summary
    assert "à 0,01 % près" not in summary
    options = []
    if run.parameters.get("base_community"):
        structures = journey.cli_out.parent / "annuaire-structures.csv"
        structures.write_bytes(
            journey.served.repos.runs.read_result(
                run.parameters["annuaire_calcul"], "structures.csv"
            )
        )
        options = ["--structures", str(structures)]
    printed = _tierslieux(
        "sites",
        *("--territory", TERRITORY, "--data", str(REAL)),
        *("--communes", str(NEEDED["communes"]), "--communes", str(NEEDED["contours"])),
        *("--zonages", str(NEEDED["zonages"]), "--mobpro", str(journey.mobpro)),
        *("--count", "2", "--time-limit", "20", "--offline", *options),
        *("--out", str(journey.cli_out.parent / "sites-cli")),
        cache=journey.cli_out.parent / "cache",
    )
    printed = _words(printed)
    covered = _words(f"{format_number(run.summary['objectif'])} usagers potentiels couverts")
    assert covered in printed
    assert covered in summary
    assert ", ".join(run.summary["sites"]) in printed
    if run.summary["repartition"]:
        split = _words(run.summary["repartition"])
        assert split in printed
        assert split in summary
    gap = _words(f"écart prouvé {format_gap(run.summary['ecart'])}")
    assert gap in printed
    assert gap.replace("écart prouvé", "Écart prouvé à l'optimum :") in summary


SCREENS = (
    "",
    "/diagnostic",
    "/communautes",
    "/contacts",
    f"/contacts/{CONTACT}",
    "/questionnaire",
    "/sites",
)


def test_a_lecteur_looks_but_changes_nothing(
    browser_page: Any, journey: Journey, axe_check: Any
) -> None:
    page = browser_page
    _log_in(page, journey, "elu@exemple.fr")
    for tail in SCREENS:
        answer = page.goto(journey.project_url(tail))
        assert answer is not None
        assert answer.status == 200, tail
        posts = page.eval_on_selector_all(
            "form",
            "forms => forms.filter(f => f.method.toLowerCase() === 'post')"
            ".map(f => new URL(f.action).pathname)"
            ".filter(p => p !== '/deconnexion')",
        )
        assert posts == [], (tail, posts)
        axe_check(page)
    page.goto(journey.project_url())
    assert "Lecture seule" in page.inner_text("main")
    _shot(journey, page, "10_lecteur_projet")
    token = page.get_attribute("meta[name=csrf-token]", "content")
    form = {"csrf_token": token}
    refused = {
        "/diagnostic": form | {"minutes": "20"},
        "/communautes/construire": form,
        f"/contacts/{CONTACT}/statut": form | {"statut": "partenaire", "version": "1"},
        f"/contacts/{CONTACT}/note": form | {"texte": "Note de l'élu", "version": "1"},
        "/sites": form | {"name": "Scénario de l'élu", "count": "1"},
        "/membres": form | {"login": "elu@exemple.fr"},
    }
    for tail, data in refused.items():
        answer = page.request.post(journey.project_url(tail), form=data, max_redirects=0)
        assert answer.status == 403, (tail, answer.status)
    upload = page.request.post(
        journey.project_url("/fichiers"),
        multipart={
            "csrf_token": token,
            "role": "zonages",
            "file": {"name": "z.csv", "mimeType": "text/csv", "buffer": b"CODGEO\n05179\n"},
        },
        max_redirects=0,
    )
    assert upload.status == 403
