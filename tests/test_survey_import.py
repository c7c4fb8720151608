"""Importing answer files: valid exports, adversarial files, nothing half-stored."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tierslieux.config import Settings
from tierslieux.errors import SchemaError, SourceError, StoreError
from tierslieux.model.survey import load_questionnaire
from tierslieux.pipeline.contacts import contact_store
from tierslieux.pipeline.survey import (
    export_answers,
    forget_respondent,
    import_answers,
    purge_expired,
    spreadsheet_safe,
    submit_answers,
)
from tierslieux.sources.survey_import import load_mapping
from tierslieux.store import InvalidValueError
from tierslieux.store import responses as store_survey

SURVEY = Path(__file__).resolve().parent / "data" / "survey"
MAPPING = SURVEY / "correspondance.yaml"
COMMUNES = (SURVEY / "communes_enquete.csv",)


def _stored(settings: Settings) -> list[dict[str, object]]:
    with contact_store(settings) as store:
        return [dict(r.answers) for r in store.responses.list_responses()]


def _import(settings: Settings, name: str | Path, **options: bool) -> object:
    path = name if isinstance(name, Path) else SURVEY / name
    return import_answers(settings, path, MAPPING, communes=COMMUNES, **options)


def test_valid_export_is_stored_with_codes_and_consent(settings: Settings) -> None:
    summary = import_answers(settings, SURVEY / "reponses_valides.csv", MAPPING, communes=COMMUNES)
    assert (summary.lines, summary.added, summary.rejected) == (6, 6, ())
    assert (summary.encoding, summary.separator) == ("utf-8", ",")
    with contact_store(settings) as store:
        stored = store.responses.list_responses()
    first = stored[0]
    assert first.commune == "05061"
    assert first.questionnaire_version == "1"
    assert first.consent_text.startswith(load_questionnaire().consent.label)  # type: ignore[union-attr]
    assert first.consented_at.isoformat() == "2025-03-01T10:00:00+00:00"
    assert first.answers["statut"] == "independant"
    assert first.answers["commune_travail"] == "05023"
    assert first.answers["temps_trajet"] == 75.0
    assert first.answers["partages"] == ("competences", "informations")
    # "05023" (a code) and "Montmaur (05)" (name and département) are resolved too.
    assert [r.commune for r in stored][4:] == ["05023", "05085"]
    assert stored[5].answers["commentaire"] == 'Partager un "bureau", oui'


def test_latin1_semicolon_export(settings: Settings) -> None:
    summary = import_answers(settings, SURVEY / "reponses_latin1.csv", MAPPING, communes=COMMUNES)
    assert (summary.added, summary.encoding, summary.separator) == (2, "cp1252", ";")
    answers = _stored(settings)
    assert answers[0]["commentaire"] == "Très intéressée, à côté de l'école"
    assert answers[1]["partages"] == ("temps", "espace")


def test_adversarial_lines_are_rejected_with_reasons(settings: Settings) -> None:
    summary = import_answers(settings, SURVEY / "reponses_adverses.csv", MAPPING, communes=COMMUNES)
    reasons = {(i.line, i.question): i.message for i in summary.rejected}
    assert "« Atlantis » n'est pas une commune" in reasons[3, "commune_residence"]
    # An optional answer out of range is dropped with a note; the respondent is kept.
    notes = {(i.line, i.question, i.column): i.message for i in summary.warnings}
    assert (
        "« -5 » ignorée : valeur impossible : -5 minutes"
        in notes[4, "temps_trajet", "Temps de trajet (minutes)"]
    )
    assert (
        "valeur impossible : 400 minutes" in notes[5, "temps_trajet", "Temps de trajet (minutes)"]
    )
    assert (4, "temps_trajet") not in reasons
    assert "« Astronaute » inconnue" in reasons[6, "statut"]
    assert "obligatoire manquante" in reasons[7, "statut"]
    assert "consentement non donné" in reasons[8, "consentement"]
    assert "identique à la ligne 2" in reasons[9, ""]
    assert "« Montmaur (05) », « Montmaur (11) »" in reasons[10, "commune_residence"]
    assert summary.added == 4
    # HTML and script are kept as inert text, exactly as typed.
    stored = _stored(settings)
    assert stored[0]["commentaire"] == (
        "<script>alert('x')</script><b>gras</b><img src=x onerror=alert(1)>"
    )


def test_reimport_is_reported_as_duplicates(settings: Settings) -> None:
    _import(settings, "reponses_valides.csv")
    again = _import(settings, "reponses_valides.csv")
    assert again.added == 0  # type: ignore[attr-defined]
    assert len(again.rejected) == 6  # type: ignore[attr-defined]
    assert all("déjà enregistrée" in i.message for i in again.rejected)  # type: ignore[attr-defined]
    assert len(_stored(settings)) == 6


def test_all_or_nothing_stores_nothing_when_a_line_is_rejected(settings: Settings) -> None:
    with pytest.raises(SchemaError, match=r"rien n'a été enregistré \(6 ligne"):
        _import(settings, "reponses_adverses.csv", all_or_nothing=True)
    assert _stored(settings) == []


def test_long_text_is_cut_with_a_warning(settings: Settings, tmp_path: Path) -> None:
    text = (SURVEY / "reponses_valides.csv").read_text(encoding="utf-8").splitlines()
    long_line = text[1].replace("Vivement un lieu près de l'école", "<b>" + "x" * 10_000)
    path = tmp_path / "long.csv"
    path.write_text("\n".join([text[0], long_line]) + "\n", encoding="utf-8")
    summary = _import(settings, path)
    assert summary.added == 1  # type: ignore[attr-defined]
    assert "10003 caractères coupé à 2000" in summary.warnings[0].message  # type: ignore[attr-defined]
    assert len(str(_stored(settings)[0]["commentaire"])) == 2000


def test_mixed_encodings_are_refused(settings: Settings, tmp_path: Path) -> None:
    utf8 = (SURVEY / "reponses_valides.csv").read_bytes()
    path = tmp_path / "melange.csv"
    path.write_bytes(utf8 + "2025/03/09 10:00:00,Briançon".encode("cp1252") + b",,,,x\n")
    with pytest.raises(SourceError, match=r"encodages mélangés.*ligne 8"):
        _import(settings, path)
    assert _stored(settings) == []


def test_wrong_separator_is_explained(settings: Settings) -> None:
    with pytest.raises(SchemaError, match="aucun séparateur de colonnes reconnu"):
        _import(settings, "reponses_tabulations.csv")


def test_columns_absent_from_the_export_are_listed(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "autre.csv"
    path.write_text("a;b\n1;2\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="colonne\\(s\\) de la correspondance absente"):
        _import(settings, path)


def test_mapping_errors_are_gathered(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(
        'questionnaire: "9"\ncolonnes:\n  A: inconnue\nreponses:\n  statut:\n    X: pilote\n',
        encoding="utf-8",
    )
    with pytest.raises(SchemaError) as caught:
        load_mapping(path, load_questionnaire())
    message = str(caught.value)
    assert "version 9" in message
    assert "question(s) inconnue(s) : inconnue" in message
    assert "code(s) inconnu(s) pilote" in message


def test_database_failure_stores_nothing(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = store_survey.insert_responses

    def failing(connection, rows):
        original(connection, rows)
        connection.exec_driver_sql("INSERT INTO nope VALUES (1)")

    monkeypatch.setattr(store_survey, "insert_responses", failing)
    with pytest.raises(StoreError, match="refuse l'opération"):
        _import(settings, "reponses_valides.csv")
    monkeypatch.setattr(store_survey, "insert_responses", original)
    assert _stored(settings) == []


def test_export_is_pseudonymised_and_spreadsheet_safe(settings: Settings, tmp_path: Path) -> None:
    _import(settings, "reponses_adverses.csv")
    out = tmp_path / "export.csv"
    summary = export_answers(settings, out)
    assert summary.respondents == 4  # lines 2 and 11, and 4 and 5 without their travel time
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    assert [r["repondant"] for r in rows] == ["R0001", "R0002", "R0003", "R0004"]
    assert rows[0]["date_consentement"] == rows[0]["date_consentement"][:10]
    assert rows[3]["commentaire"].startswith("'=HYPERLINK")
    with contact_store(settings) as store:
        ids = [r.id for r in store.responses.list_responses()]
    export_answers(settings, out, identifiers=True)
    with out.open(encoding="utf-8", newline="") as handle:
        assert [r["repondant"] for r in csv.DictReader(handle, delimiter=";")] == ids


def test_spreadsheet_safe() -> None:
    assert spreadsheet_safe("=1+1") == "'=1+1"
    assert spreadsheet_safe("-2") == "'-2"
    assert spreadsheet_safe("bonjour") == "bonjour"


def test_consent_record_and_retention(settings: Settings) -> None:
    _import(settings, "reponses_valides.csv")
    with contact_store(settings) as store:
        first = store.responses.list_responses()[0]
    assert first.consent_text.startswith(load_questionnaire().consent.label)  # type: ignore[union-attr]
    assert settings.survey_purpose in first.consent_text
    assert "730 jours" in first.consent_text
    # The first consent (2025-03-01 10:00) is more than 730 days old, the second is not.
    now = datetime(2027, 3, 1, 10, 30, tzinfo=UTC)
    assert purge_expired(settings, now=now) == 1
    assert len(_stored(settings)) == 5
    assert purge_expired(settings, now=now) == 0


def test_submit_answers_through_the_api(settings: Settings) -> None:
    answers = {
        "commune_residence": "Veynes",
        "statut": "salarie",
        "part_ordinateur": "Plus des trois quarts",
        "envies": "proche;Un lieu convivial",
        "commentaire": "<i>bonjour</i>",
        "consentement": "oui",
    }
    respondent = submit_answers(settings, answers, communes=COMMUNES, submission="form-1")
    stored = _stored(settings)
    assert stored[0]["envies"] == ("proche", "convivial")
    assert stored[0]["part_ordinateur"] == "plus_75"
    with pytest.raises(InvalidValueError, match="déjà enregistrée"):
        submit_answers(settings, answers, communes=COMMUNES, submission="form-1")
    bad = {**answers, "commune_residence": "Atlantis", "temps_trajet": "-1", "autre": "x"}
    with pytest.raises(SchemaError, match="question\\(s\\) inconnue\\(s\\) : autre"):
        submit_answers(settings, bad, communes=COMMUNES)
    del bad["autre"]
    with pytest.raises(SchemaError) as caught:
        submit_answers(settings, bad, communes=COMMUNES)
    assert "commune_residence : « Atlantis »" in str(caught.value)
    assert "temps_trajet : valeur impossible" in str(caught.value)
    assert _stored(settings) == stored
    assert forget_respondent(settings, respondent) == 1
    assert _stored(settings) == []
