"""Personal data: e-mails and phones masked in exports, terminal output, secrets in URLs."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from tierslieux.cli import app
from tierslieux.cli.common import shown
from tierslieux.config import Settings
from tierslieux.errors import SourceError
from tierslieux.pipeline import contacts as use_cases
from tierslieux.pipeline.contacts import contact_store
from tierslieux.pipeline.inputs import travel_engine
from tierslieux.pipeline.survey import (
    export_answers,
    forget_respondent,
    import_answers,
    purge_expired,
)
from tierslieux.privacy import (
    contact_details_flag,
    mask_contact_details,
    mask_url,
    mask_urls_in,
    terminal_safe,
)
from tierslieux.sources.osrm import OsrmEngine
from tierslieux.store import dispose_engine

SURVEY = Path(__file__).resolve().parent / "data" / "survey"


def _survey_import(tmp_path: Path) -> tuple[str, dict[str, str], list[str]]:
    """A fresh SQLite store, its environment and the `survey import` of the valid answers."""
    url = f"sqlite:///{tmp_path / 'survey.sqlite'}"
    env = {"TIERSLIEUX_DATABASE_URL": url, "XDG_DATA_HOME": str(tmp_path / "x"), "COLUMNS": "200"}
    args = [
        "survey",
        "import",
        str(SURVEY / "reponses_valides.csv"),
        "--mapping",
        str(SURVEY / "correspondance.yaml"),
        "--communes",
        str(SURVEY / "communes_enquete.csv"),
    ]
    return url, env, args


MAIL = "[courriel masqué]"
PHONE = "[téléphone masqué]"


@pytest.mark.parametrize(
    "text",
    [
        "06 12 34 56 78",
        "+33 6 12 34 56 78",
        "0612345678",
        "01.23.45.67.89",
        "06-12-34-56-78",
        "+33612345678",
        "0033 6 12 34 56 78",
        "+33 (0)6 12 34 56 78",
    ],
)
def test_french_phone_formats_are_masked(text: str) -> None:
    assert mask_contact_details(f"Appeler au {text} demain.") == f"Appeler au {PHONE} demain."


@pytest.mark.parametrize(
    "text",
    [
        "Réunion le 12/03/2026 à 10h",
        "le 01.02.2026 10:30",
        "SIRET 73282932000074",
        "SIRET 051 234 567 00012",
        "SIREN 051234567",
        "05123456700012",
        "06 12 34 56 7",
        "référence 0612345678901",
        "x@y",
        "budget 1 200 000 €",
    ],
)
def test_dates_and_siret_are_not_phones(text: str) -> None:
    assert mask_contact_details(text) == text


def test_emails_are_masked() -> None:
    text = "Écrire à jean.dupont+tl@mairie-gap.fr. ou Marie_D@exemple.org"
    assert mask_contact_details(text) == f"Écrire à {MAIL}. ou {MAIL}"


def test_terminal_safe_strips_escape_sequences() -> None:
    text = "A\x1b[31mROUGE\x1b[0m\x1b]0;titre\x07 b\rc\x08\x1b]8;;http://x\x1b\\lien\u202e"
    assert terminal_safe(text) == "AROUGE bclien"
    assert terminal_safe("ligne 1\nligne\t2") == "ligne 1\nligne\t2"
    assert shown("[bold]x\x1b[2J") == "\\[bold]x"


def test_mask_url_hides_credentials_and_tokens() -> None:
    assert mask_url("https://user:secret@osrm.example/table?token=abc&profile=car") == (
        "https://user:***@osrm.example/table?token=***&profile=car"
    )
    assert mask_url("https://abcdef@osrm.example/") == "https://***@osrm.example/"
    plain = "https://router.project-osrm.org/table/v1/driving/1,2;3,4?sources=0"
    assert mask_url(plain) == plain
    assert "secret" not in mask_urls_in("échec (https://u:secret@h/x) : délai")


def test_osrm_errors_do_not_show_credentials() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"refused {request.url}", request=request)

    client = httpx.Client(transport=httpx.MockTransport(refuse))
    engine = OsrmEngine("https://user:secret@osrm.example?api_key=k123", client=client, retries=0)
    assert "secret" not in str(engine.parameters())
    with pytest.raises(SourceError) as caught:
        engine._get_json(client, "https://user:secret@osrm.example/table/v1/x?api_key=k123")
    assert "secret" not in str(caught.value)
    assert "k123" not in str(caught.value)
    assert "user:***@osrm.example" in str(caught.value)


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    url = f"sqlite:///{tmp_path / 'contacts.sqlite'}"
    value = Settings(offline=True, cache_dir=tmp_path / "cache", database_url=url)
    yield value
    dispose_engine(url)


def test_survey_export_masks_contact_details(settings: Settings, tmp_path: Path) -> None:
    source = (SURVEY / "reponses_valides.csv").read_text(encoding="utf-8")
    source = source.replace(
        'Partager un ""bureau"", oui', "Appelez-moi au 06 12 34 56 78 ou marie@exemple.fr"
    )
    path = tmp_path / "reponses.csv"
    path.write_text(source, encoding="utf-8")
    import_answers(
        settings, path, SURVEY / "correspondance.yaml", communes=(SURVEY / "communes_enquete.csv",)
    )
    out = tmp_path / "export.csv"
    export_answers(settings, out)
    with out.open(encoding="utf-8", newline="") as handle:
        comments = [r["commentaire"] for r in csv.DictReader(handle, delimiter=";")]
    assert f"Appelez-moi au {PHONE} ou {MAIL}" in comments
    export_answers(settings, out, identifiers=True)
    assert "06 12 34 56 78" in out.read_text(encoding="utf-8")


def test_contacts_export_masks_notes_and_next_actions(settings: Settings, tmp_path: Path) -> None:
    structures = tmp_path / "structures.csv"
    structures.write_text(
        "identifiant,nom,categorie,code_commune\nsiret:12345678900011,CAE Alpes,cae,05061\n",
        encoding="utf-8",
    )
    use_cases.load_structures(settings, structures)
    use_cases.add_note(settings, "siret:12345678900011", "joindre a@b.fr", author="Alice")
    use_cases.set_next_action(
        settings, "siret:12345678900011", "Rappeler au 0612345678", None, author="Alice"
    )
    out = tmp_path / "contacts.csv"
    use_cases.export_contacts(settings, out)
    text = out.read_text(encoding="utf-8")
    assert "a@b.fr" not in text
    assert "0612345678" not in text
    assert MAIL in text
    assert f"Rappeler au {PHONE}" in text
    use_cases.export_contacts(settings, out, mask=False)
    assert "0612345678" in out.read_text(encoding="utf-8")


def test_erased_respondent_is_not_reimported(settings: Settings, tmp_path: Path) -> None:
    mapping, communes = SURVEY / "correspondance.yaml", (SURVEY / "communes_enquete.csv",)
    source = SURVEY / "reponses_valides.csv"
    first = import_answers(settings, source, mapping, communes=communes)
    assert first.added == 6
    forget_respondent(settings, first.ids[2])
    again = import_answers(settings, source, mapping, communes=communes)
    assert (again.added, again.erased) == (0, 1)
    assert any("effacé à sa demande" in issue.message for issue in again.rejected)
    with contact_store(settings) as store:
        stored = store.responses.list_responses()
        assert len(stored) == 5
        database = store.responses._database
    # The tombstone is salted: no plain fingerprint of the erased answers is kept.
    with database.transaction(write=False) as connection:
        stones = connection.execute(text("SELECT fingerprint FROM erasure_tombstones")).all()
        salt = connection.execute(text("SELECT value FROM store_secrets")).scalar_one()
    assert len(stones) == 1
    assert len(salt) == 64
    assert stones[0][0] not in {r.fingerprint for r in stored}


def test_contact_details_are_flagged() -> None:
    assert contact_details_flag("Écrire à a.b@mairie.fr") == "contient une adresse e-mail"
    assert contact_details_flag("Tél. 06 12 34 56 78") == "contient un numéro de téléphone"
    assert contact_details_flag("a@b.fr ou 0612345678") == (
        "contient une adresse e-mail et un numéro de téléphone"
    )
    assert contact_details_flag("SIRET 73282932000074, le 12/03/2026") == ""


def test_purged_respondents_are_not_reimported(settings: Settings) -> None:
    mapping, communes = SURVEY / "correspondance.yaml", (SURVEY / "communes_enquete.csv",)
    source = SURVEY / "reponses_valides.csv"
    assert import_answers(settings, source, mapping, communes=communes).added == 6
    # The first consent (2025-03-01 10:00) is more than 730 days old on 2027-03-01.
    assert purge_expired(settings, now=datetime(2027, 3, 1, 10, 30, tzinfo=UTC)) == 1
    again = import_answers(settings, source, mapping, communes=communes)
    assert (again.added, again.erased, again.expired) == (0, 0, 1)
    assert any("durée de conservation" in issue.message for issue in again.rejected)
    with contact_store(settings) as store:
        assert len(store.responses.list_responses()) == 5
        database = store.responses._database
    with database.transaction(write=False) as connection:
        kinds = connection.execute(text("SELECT kind FROM erasure_tombstones")).scalars().all()
    assert kinds == ["conservation"]


def test_survey_purge_cli_keeps_tombstones_and_says_so(tmp_path: Path) -> None:
    url, env, args = _survey_import(tmp_path)
    runner = CliRunner()
    try:
        assert runner.invoke(app, args, env=env).exit_code == 0
        purge = runner.invoke(
            app, ["survey", "purge"], env={**env, "TIERSLIEUX_SURVEY_RETENTION_DAYS": "1"}
        )
        assert purge.exit_code == 0, purge.output
        assert "6 répondant(s) importé(s) effacé(s)" in purge.stdout
        assert "réimporter le même export ne les fera pas revenir" in purge.stdout
        again = runner.invoke(app, args, env=env)
        assert again.exit_code == 0, again.output
        assert "0 enregistrée(s)" in again.stdout
        assert "6 réponse(s) effacée(s) à la fin de la durée de conservation" in again.stdout
    finally:
        dispose_engine(url)


def test_forget_scrubs_the_usual_variants_of_a_name(settings: Settings, tmp_path: Path) -> None:
    structures = tmp_path / "structures.csv"
    structures.write_text(
        "identifiant,nom,categorie,code_commune\nsiret:12345678900011,CAE Alpes,cae,05061\n",
        encoding="utf-8",
    )
    use_cases.load_structures(settings, structures)
    cae = "siret:12345678900011"
    person = use_cases.add_person(
        settings, cae, name="Hélène Dupré", consent_basis="consentement", phone="06 12 34 56 78"
    )
    notes = [
        "Appel de Mme Dupré",
        "M. Dupré rappellera",
        "Monsieur DUPRE absent",
        "Dupre Helene a écrit",
        "RDV avec H. Dupré et Paul",
        "Vu Mme Hélène Dupré au 06 12 34 56 78",
        "Les Dupréaux ne sont pas concernés",
    ]
    for note in notes:
        use_cases.add_note(settings, cae, note, author="Alice")
    use_cases.set_next_action(settings, cae, "Relancer madame dupré", None, author="Alice")
    report = use_cases.erase_person(settings, person.id, author="DPO")
    assert report.people == 1
    texts = [e.text for e in use_cases.show_contact(settings, cae).history if e.kind == "note"]
    erased = "[donnée effacée]"
    assert texts == [
        f"Appel de {erased}",
        f"{erased} rappellera",
        f"{erased} absent",
        f"{erased} a écrit",
        f"RDV avec {erased} et Paul",
        f"Vu {erased} au {erased}",
        "Les Dupréaux ne sont pas concernés",
    ]
    assert use_cases.show_contact(settings, cae).next_action == f"Relancer {erased}"
    found = {piece for change in report.changes for piece in change.found}
    assert {"Mme Dupré", "Monsieur DUPRE", "H. Dupré", "madame dupré"} <= found
    assert len(report.changes) == 8  # six notes, the next-action event and the record


def test_contacts_list_and_show_strip_terminal_escapes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'contacts.sqlite'}"
    env = {"TIERSLIEUX_DATABASE_URL": url, "XDG_DATA_HOME": str(tmp_path / "x"), "COLUMNS": "200"}
    structures = tmp_path / "structures.csv"
    evil = "Tiers\x1b]0;pwned\x07 lieu\x1b[2J\x1b[31m rouge\x08"
    structures.write_text(
        f'identifiant,nom,categorie,code_commune\nsiret:12345678900011,"{evil}",cae,05061\n',
        encoding="utf-8",
    )
    runner = CliRunner()
    try:
        assert runner.invoke(app, ["contacts", "load", str(structures)], env=env).exit_code == 0
        note = ["contacts", "note", "siret:12345678900011", "\x1b[1Anote\x1b[K", "--auteur", "A"]
        assert runner.invoke(app, note, env=env).exit_code == 0
        for args in (["list"], ["show", "siret:12345678900011"]):
            result = runner.invoke(app, ["contacts", *args], env=env)
            assert result.exit_code == 0, result.output
            assert "\x1b" not in result.output
            assert "\x07" not in result.output
            assert "\x08" not in result.output
            assert "Tiers lieu rouge" in result.output
    finally:
        dispose_engine(url)


def test_survey_import_cli_says_erased_respondents_are_skipped(tmp_path: Path) -> None:
    url, env, args = _survey_import(tmp_path)
    runner = CliRunner()
    try:
        assert runner.invoke(app, args, env=env).exit_code == 0
        out = tmp_path / "ids.csv"
        export = ["survey", "export", "--out", str(out), "--avec-identifiants"]
        assert runner.invoke(app, export, env=env).exit_code == 0
        first_id = out.read_text(encoding="utf-8").splitlines()[1].split(";")[0]
        assert runner.invoke(app, ["survey", "forget", first_id], env=env).exit_code == 0
        again = runner.invoke(app, args, env=env)
        assert again.exit_code == 0, again.output
        assert "1 réponse(s) de répondant(s) effacé(s) à leur demande (RGPD)" in again.stdout
        assert "effacé à sa demande" in again.stderr
    finally:
        dispose_engine(url)


def test_osrm_provenance_does_not_keep_credentials(tmp_path: Path) -> None:
    settings = Settings(cache_dir=tmp_path, osrm_url="https://u:secret@osrm.example/?token=t1")
    _engine, provenance = travel_engine(settings, None)
    assert "secret" not in provenance[0].location
    assert "t1" not in provenance[0].location
