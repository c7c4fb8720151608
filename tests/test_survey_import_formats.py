"""Exports of LimeSurvey, Google Forms, Microsoft Forms and Framaforms, mapped automatically.

The CSV files are in ``tests/data/survey`` (see its README); the XLSX workbooks are
built here with openpyxl in the layouts of LimeSurvey's and Microsoft Forms' exports.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from openpyxl import Workbook, load_workbook
from typer.testing import CliRunner

from test_survey_import import _stored
from tierslieux.cli import app
from tierslieux.config import Settings
from tierslieux.errors import SchemaError, SourceError
from tierslieux.model.survey import (
    limesurvey_answer_code,
    limesurvey_column,
    load_questionnaire,
)
from tierslieux.pipeline.contacts import contact_store
from tierslieux.pipeline.survey import import_answers, propose_survey_mapping
from tierslieux.sources.survey_formats import detect_tool, read_export
from tierslieux.sources.survey_import import known_labels, load_mapping, split_multi

SURVEY = Path(__file__).resolve().parent / "data" / "survey"
COMMUNES = (SURVEY / "communes_enquete.csv",)
QUESTIONNAIRE = load_questionnaire()
LABEL = {q.id: q.label for q in QUESTIONNAIRE.questions}
OPTION = {q.id: {o.code: o.label for o in q.options} for q in QUESTIONNAIRE.questions}


def _import(settings: Settings, path: Path, mapping: Path | None = None) -> object:
    return import_answers(settings, path, mapping, communes=COMMUNES)


# -- Google Forms -----------------------------------------------------------------------


def test_google_forms_answers_with_commas_are_matched_not_split(settings: Settings) -> None:
    summary = _import(settings, SURVEY / "google_forms.csv")
    assert summary.automatic is not None  # type: ignore[attr-defined]
    assert summary.automatic.tool == "google_forms"  # type: ignore[attr-defined]
    assert (summary.lines, summary.added) == (4, 3)  # type: ignore[attr-defined]
    first, second, third = _stored(settings)
    # Three labels containing commas, joined by ", ": three answers.
    assert first["envies"] == ("proche", "flexible", "outils")
    assert first["vie_quotidienne"] == ("enfants", "circuits_courts")
    assert first["statut"] == "independant"
    assert first["commentaire"] == "Vivement, un lieu près de l'école"
    assert first["consentement"] == "oui"
    # A free "Autre" answer counts as « Autre » and is reported.
    assert second["mode_trajet"] == "autre"
    assert third["statut"] == "autre"
    notes = {(n.line, n.question): n for n in summary.warnings}  # type: ignore[attr-defined]
    assert "« Trottinette électrique » comptée comme « Autre »" in notes[3, "mode_trajet"].message
    # "1h15" for a number of days: the optional answer is dropped, the respondent kept.
    assert "jours_par_semaine" not in second
    note = notes[3, "jours_par_semaine"]
    assert note.column == LABEL["jours_par_semaine"]
    assert "« 1h15 » ignorée" in note.message
    assert "n'est pas un nombre" in note.message
    # A required answer that fails still rejects the line, naming line and column.
    (rejected,) = summary.rejected  # type: ignore[attr-defined]
    assert (rejected.line, rejected.question) == (5, "commune_residence")
    assert rejected.column == LABEL["commune_residence"]
    assert "« Atlantis »" in rejected.message


def test_reimport_changes_nothing(settings: Settings) -> None:
    _import(settings, SURVEY / "google_forms.csv")
    again = _import(settings, SURVEY / "google_forms.csv")
    assert again.added == 0  # type: ignore[attr-defined]
    assert again.warnings == ()  # type: ignore[attr-defined]
    assert len(_stored(settings)) == 3


def test_split_multi_keeps_labels_with_commas_and_free_text() -> None:
    envies = QUESTIONNAIRE.question("envies")
    labels = known_labels(envies, load_mapping(SURVEY / "correspondance.yaml", QUESTIONNAIRE))
    text = f"{OPTION['envies']['flexible']}, Un jardin, avec des poules, {OPTION['envies']['convivial']}"
    assert split_multi(text, labels, ", ") == (
        ["flexible", "convivial"],
        ["un jardin, avec des poules"],
    )
    assert split_multi("proche;outils", labels, ";") == (["proche", "outils"], [])


# -- LimeSurvey -------------------------------------------------------------------------


def test_limesurvey_codes_per_option_columns_combine(settings: Settings) -> None:
    summary = _import(settings, SURVEY / "limesurvey_codes.csv")
    assert summary.automatic.tool == "limesurvey"  # type: ignore[attr-defined]
    assert {"id", "submitdate", "seed"} <= set(summary.automatic.ignored)  # type: ignore[attr-defined]
    first, second = _stored(settings)
    assert first["envies"] == ("proche", "outils")  # two "Y" columns, one question
    assert first["partages"] == ("competences",)
    assert first["temps_trajet"] == 75.0
    assert second["statut"] == "autre"  # "Autre" + the text of statut[other]
    notes = {(n.line, n.question): n for n in summary.warnings}  # type: ignore[attr-defined]
    assert notes[3, "statut"].column == "statut[other]"
    assert "« Agriculteur et élu »" in notes[3, "statut"].message
    assert notes[3, "jours_par_semaine"].column == "joursparsemaine"
    (rejected,) = summary.rejected  # type: ignore[attr-defined]
    assert (rejected.line, rejected.question) == (4, "envies")
    assert "obligatoire manquante" in rejected.message


def test_limesurvey_answer_codes_of_our_own_lss_are_read_back(
    settings: Settings, tmp_path: Path
) -> None:
    """The round trip of ``survey questionnaire --out x.lss``: LimeSurvey's export "with
    answer codes" writes A1, A2... for single choices and Y for ticked sub-questions."""
    headings = ["id", "submitdate", "lastpage", "startlanguage", "seed"]
    row = ["1", "2026-03-01 10:00:00", "4", "fr", "1"]
    expected: dict[str, object] = {}
    for question in QUESTIONNAIRE.questions:
        if question.type == "multi":
            for position, option in enumerate(question.options):
                headings.append(limesurvey_column(question, option.code))
                row.append("Y" if position == 1 else "")
            expected[question.id] = (question.options[1].code,)
            continue
        headings.append(limesurvey_column(question))
        if question.type == "choice":
            option = question.options[-1].code
            row.append(limesurvey_answer_code(question, option))
            expected[question.id] = option
        elif question.type == "consent":
            row.append("Y")
        elif question.type == "commune":
            row.append("Gap")
        elif question.type == "number":
            row.append("2")
        else:
            row.append("")
    export = tmp_path / "results-survey123456.csv"
    with export.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_ALL)
        writer.writerows([headings, row])
    proposal = propose_survey_mapping(export)
    assert proposal.tool == "limesurvey"  # type: ignore[attr-defined]
    summary = _import(settings, export)
    assert summary.added == 1, summary.rejected  # type: ignore[attr-defined]
    (stored,) = _stored(settings)
    for question, answer in expected.items():
        assert stored[question] == answer, question


def test_limesurvey_full_text_headings_oui_non(settings: Settings) -> None:
    summary = _import(settings, SURVEY / "limesurvey_textes.csv")
    first, second = _stored(settings)
    assert first["envies"] == ("flexible", "rencontres")
    assert first["vie_quotidienne"] == ("enfants",)  # « Oui » ticked, « Non » not
    assert first["mode_trajet"] == "autre"
    assert second["envies"] == ("moins_cher",)
    assert "vie_quotidienne" not in second  # every option « Non »
    notes = [n for n in summary.warnings if n.question == "mode_trajet"]  # type: ignore[attr-defined]
    assert notes[0].column == f"{LABEL['mode_trajet']} [Autre]"


def _workbook(path: Path, rows: list[list[object]]) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def test_limesurvey_excel_export(settings: Settings, tmp_path: Path) -> None:
    with (SURVEY / "limesurvey_codes.csv").open(encoding="utf-8", newline="") as handle:
        rows: list[list[object]] = [list(r) for r in csv.reader(handle)]
    for row in rows[1:]:  # Excel cells hold numbers and dates, not text
        row[0] = int(str(row[0]))
        row[1] = datetime.fromisoformat(str(row[1]))
        row[7] = float(str(row[7])) if row[7] else None
    path = _workbook(tmp_path / "results-survey123456.xlsx", rows)
    assert detect_tool(read_export(path)) == "limesurvey"
    summary = _import(settings, path)
    assert summary.added == 2  # type: ignore[attr-defined]
    first = _stored(settings)[0]
    assert first["envies"] == ("proche", "outils")
    assert first["temps_trajet"] == 75.0
    with contact_store(settings) as store:
        stored = store.responses.list_responses()[0]
    assert stored.consented_at.isoformat() == "2025-03-01T10:00:00+00:00"


# -- Microsoft Forms --------------------------------------------------------------------


def _ms_forms(path: Path) -> Path:
    questions = [
        "commune_residence",
        "statut",
        "part_ordinateur",
        "envies",
        "jours_par_semaine",
        "budget_mensuel",
        "consentement",
    ]
    header = ["ID", "Heure de début", "Heure de fin", "Adresse de messagerie", "Nom"]
    header += [LABEL[q] for q in questions]
    envies = OPTION["envies"]
    # Excel cells hold naive local times.
    start = datetime(2025, 3, 1, 9, 58, 12, tzinfo=UTC).replace(tzinfo=None)
    end = datetime(2025, 3, 1, 10, 2, 40, tzinfo=UTC).replace(tzinfo=None)
    return _workbook(
        path,
        [
            header,
            [1, start, end, "anonymous", None, "Gap", OPTION["statut"]["salarie"],
             OPTION["part_ordinateur"]["plus_75"], f"{envies['flexible']};{envies['outils']};",
             2, 150, "Oui"],
            [2, start, end, "anonymous", None, "Veynes", "Paysagiste",
             OPTION["part_ordinateur"]["moins_25"], f"{envies['convivial']};", 2.5, None, "Oui"],
            [3, start, end, "anonymous", None, "Embrun", OPTION["statut"]["retraite"],
             OPTION["part_ordinateur"]["moins_25"], f"{envies['proche']};", "1h15", None, "Oui"],
        ],
    )  # fmt: skip


def test_microsoft_forms_xlsx(settings: Settings, tmp_path: Path) -> None:
    path = _ms_forms(tmp_path / "Questionnaire tiers-lieu(1-3).xlsx")
    book = load_workbook(path)  # a last question nobody answered: rows end before it
    book.active.cell(row=1, column=13, value=LABEL["commentaire"])  # type: ignore[union-attr]
    book.save(path)
    summary = _import(settings, path)
    assert summary.automatic.tool == "microsoft_forms"  # type: ignore[attr-defined]
    assert summary.added == 3  # type: ignore[attr-defined]
    first, second, third = _stored(settings)
    assert first["envies"] == ("flexible", "outils")  # trailing ";" ignored
    assert first["jours_par_semaine"] == 2.0  # a number cell
    assert first["budget_mensuel"] == 150.0
    assert second["jours_par_semaine"] == 2.5
    assert second["statut"] == "autre"  # free "Other" answer
    assert "jours_par_semaine" not in third
    with contact_store(settings) as store:
        stored = store.responses.list_responses()[0]
    assert stored.consented_at.isoformat() == "2025-03-01T10:02:40+00:00"  # Heure de fin


def test_not_a_workbook_is_refused_in_french(tmp_path: Path) -> None:
    path = tmp_path / "export.xlsx"
    path.write_text("ID;Nom\n1;x\n", encoding="utf-8")
    with pytest.raises(SourceError, match="classeur Excel illisible"):
        read_export(path)


# -- Framaforms -------------------------------------------------------------------------


def test_framaforms_three_header_lines(settings: Settings) -> None:
    table = read_export(SURVEY / "framaforms.tsv")
    assert detect_tool(table) == "framaforms"
    assert table.rows[0][0] == 4  # data start on the fourth line
    summary = _import(settings, SURVEY / "framaforms.tsv")
    first, second = _stored(settings)
    assert first["envies"] == ("proche", "convivial")  # "X" in two option columns
    assert second["commune_residence"] == "05085"  # « Montmaur (05) »
    assert [i.line for i in summary.rejected] == [6]  # type: ignore[attr-defined]


# -- Proposal and explicit mappings -----------------------------------------------------


def test_proposal_is_written_for_review_and_loads(tmp_path: Path) -> None:
    out = tmp_path / "correspondance.yaml"
    summary = propose_survey_mapping(SURVEY / "limesurvey_codes.csv", out=out)
    assert summary.ready
    text = out.read_text(encoding="utf-8")
    assert "# Outil reconnu : LimeSurvey." in text
    assert '"envies[proche]": "envies.proche"' in text
    assert "# métadonnée de l'outil" in text
    mapping = load_mapping(out, QUESTIONNAIRE)
    assert mapping.submission_column == "id"
    assert mapping.columns["statut[other]"] == "statut.autre"


def test_uncertain_proposal_is_refused_naming_the_columns(
    settings: Settings, tmp_path: Path
) -> None:
    summary = propose_survey_mapping(SURVEY / "reponses_valides.csv")
    assert not summary.ready
    assert [c for c, _reason in summary.doubtful] == ["Situation", "Temps devant un ordinateur"]
    assert "# À VÉRIFIER : colonne non reconnue" in summary.text
    with pytest.raises(SchemaError) as caught:
        _import(settings, SURVEY / "reponses_valides.csv")
    message = str(caught.value)
    assert "colonne « Situation »" in message
    assert "tierslieux survey mapping" in message
    assert _stored(settings) == []


def _mapping(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "correspondance.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_columns_on_one_question_combine(settings: Settings, tmp_path: Path) -> None:
    export = tmp_path / "export.csv"
    export.write_text(
        "Commune;Situation;Ordinateur;Envie 1;Envie 2;Lieu convivial;Jours;Accord\n"
        "Gap;salarie;plus_75;proche;outils;Oui;2;oui\n"
        "Gap;salarie;plus_75;;;Non;2;oui\n"
        "Veynes;salarie;plus_75;flexible;;bizarre;2;oui\n"
        "Embrun;salarie;moins_25;flexible;;;1h15;oui\n",
        encoding="utf-8",
    )
    mapping = _mapping(
        tmp_path,
        'questionnaire: "1"\ncolonnes:\n  Commune: commune_residence\n  Situation: statut\n'
        "  Ordinateur: part_ordinateur\n  Envie 1: envies\n  Envie 2: envies\n"
        "  Lieu convivial: envies.convivial\n  Jours: jours_par_semaine\n"
        "  Accord: consentement\n",
    )
    summary = _import(settings, export, mapping)
    stored = _stored(settings)
    assert stored[0]["envies"] == ("proche", "outils", "convivial")  # never overwritten
    rejected = {(i.line, i.question): i for i in summary.rejected}  # type: ignore[attr-defined]
    assert "obligatoire manquante" in rejected[3, "envies"].message
    # An unexpected value in an option column of a required question rejects the line.
    assert rejected[4, "envies"].column == "Lieu convivial"
    assert "« bizarre »" in rejected[4, "envies"].message
    # The same in an optional question only drops that answer, with a note.
    assert stored[1]["envies"] == ("flexible",)
    assert "jours_par_semaine" not in stored[1]
    (note,) = summary.warnings  # type: ignore[attr-defined]
    assert (note.line, note.column) == (5, "Jours")
    assert len(stored) == 2


def test_two_answers_to_a_single_choice_are_refused(settings: Settings, tmp_path: Path) -> None:
    export = tmp_path / "export.csv"
    export.write_text(
        "Commune;Situation;Statut;Ordinateur;Envies;Accord\n"
        "Gap;salarie;retraite;plus_75;proche;oui\n",
        encoding="utf-8",
    )
    mapping = _mapping(
        tmp_path,
        'questionnaire: "1"\ncolonnes:\n  Commune: commune_residence\n  Situation: statut\n'
        "  Statut: statut\n  Ordinateur: part_ordinateur\n  Envies: envies\n"
        "  Accord: consentement\n",
    )
    summary = _import(settings, export, mapping)
    (rejected,) = summary.rejected  # type: ignore[attr-defined]
    assert rejected.column == "Situation, Statut"
    assert "plusieurs réponses (salarie, retraite)" in rejected.message


def test_yaml_error_is_located_in_french(tmp_path: Path) -> None:
    path = _mapping(tmp_path, 'questionnaire: "1"\ncolonnes:\n  "Commune: commune_residence\n')
    with pytest.raises(SchemaError) as caught:
        load_mapping(path, QUESTIONNAIRE)
    message = str(caught.value)
    assert f"{path}, ligne 4, colonne 1 : YAML illisible" in message
    assert "while scanning" not in message
    assert "found" not in message
    bad = _mapping(tmp_path, "colonnes:\n  a: b\n c: d\n")
    with pytest.raises(SchemaError, match=r"ligne 3, colonne 2 : YAML illisible"):
        load_mapping(bad, QUESTIONNAIRE)


# -- Command line -----------------------------------------------------------------------


def test_cli_mapping_then_import(tmp_path: Path, store_env: dict[str, str]) -> None:
    env = store_env
    runner = CliRunner()
    out = tmp_path / "proposee.yaml"
    export = str(SURVEY / "framaforms.tsv")
    result = runner.invoke(app, ["survey", "mapping", export, "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    assert "Framaforms / Drupal Webform" in result.stdout
    assert yaml.safe_load(out.read_text(encoding="utf-8"))["soumission"] == "SID"
    result = runner.invoke(app, ["survey", "mapping", export], env=env)
    assert result.exit_code == 0, result.output
    assert "colonnes:" in result.stdout
    args = ["survey", "import", export, "--mapping", str(out), "--communes", str(COMMUNES[0])]
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    assert "2 enregistrée(s), 1 ligne(s) rejetée(s)" in result.stdout
    assert "ligne 6" in result.stderr
    result = runner.invoke(app, ["survey", "import", str(SURVEY / "reponses_valides.csv")], env=env)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "survey mapping" in result.stderr


def test_limesurvey_heading_variants(tmp_path: Path) -> None:
    convivial = OPTION["envies"]["convivial"]
    header = [
        "id",
        "submitdate",
        "lastpage",
        "commune_residence",
        f"envies[SQ005]. {LABEL['envies']} [{convivial}]",  # "code & question text"
        "envies_SQ001",  # LimeSurvey's own subquestion code: cannot be guessed
        "statut",
        "statut_other",
    ]
    path = tmp_path / "results-survey.csv"
    path.write_text(",".join(f'"{h}"' for h in header) + "\n", encoding="utf-8")
    summary = propose_survey_mapping(path)
    text = summary.text
    assert '"envies.convivial"' in text
    assert '"statut_other": "statut.autre"' in text
    (doubtful,) = summary.doubtful
    assert doubtful[0] == "envies_SQ001"
    assert "« SQ001 »" in doubtful[1]
    assert not summary.ready
