"""The questionnaire out of the tool: ``survey show``, the LimeSurvey file, paper (HTML, PDF)."""

from __future__ import annotations

import html
import io
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from tierslieux.cli import app
from tierslieux.config import Settings
from tierslieux.errors import SchemaError
from tierslieux.model.survey import (
    limesurvey_answer_code,
    limesurvey_code,
    limesurvey_column,
    limesurvey_option,
    limesurvey_subquestion_code,
    load_questionnaire,
)
from tierslieux.pipeline import questionnaire_document
from tierslieux.reports.questionnaire import (
    LIMESURVEY_DB_VERSION,
    render_limesurvey,
    render_questionnaire_html,
    render_questionnaire_pdf,
)

runner = CliRunner()
QUESTIONNAIRE = load_questionnaire()
#: LimeSurvey's rules: question and sub-question codes alphanumeric, starting with a
#: letter, 20 characters at most; answer codes 5 characters at most.
LS_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,19}$")
LS_ANSWER = re.compile(r"^[A-Za-z0-9]{1,5}$")
LS_TYPES = {"choice": "L", "multi": "M", "number": "N", "commune": "S", "text": "T"}

HOSTILE = """\
version: "test"
titre: "Essai <script>alert(1)</script>"
questions:
  - id: q_1
    type: choice
    label: "Rouge \\e[31m ou [bold]gras[/bold] <b>ici</b> {INSERTANS}"
    critere: "test"
    required: true
    options:
      - {code: "a_1", label: "Oui <i>vraiment</i>"}
      - {code: "b", label: "Non"}
  - id: consent
    type: consent
    label: "D'accord"
    critere: "RGPD"
    required: true
"""


def run(*args: str, columns: int = 80) -> Result:
    return runner.invoke(app, list(args), env={"COLUMNS": str(columns)})


def _flat(text: str) -> str:
    return " ".join(text.split())


def _hostile(tmp_path: Path) -> Path:
    path = tmp_path / "hostile.yaml"
    path.write_text(HOSTILE, encoding="utf-8")
    return path


# --- survey show -----------------------------------------------------------------------


def test_show_prints_every_question_option_and_code_within_80_columns() -> None:
    result = run("survey", "show")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert max(len(line.rstrip()) for line in lines) <= 80
    flat = _flat(result.stdout)
    numbers = [int(m) for m in re.findall(r"^\s*(\d+)\. ", result.stdout, flags=re.MULTILINE)]
    assert numbers == list(range(1, len(QUESTIONNAIRE.questions) + 1))
    for question in QUESTIONNAIRE.questions:
        assert _flat(question.label) in flat, question.id
        assert question.id in flat
        for option in question.options:
            assert re.search(rf"{re.escape(option.code)}\s+{re.escape(option.label)}", flat), (
                question.id,
                option.code,
            )
    assert "choix unique" in flat
    assert "choix multiples" in flat
    assert "de 0 à 300 minutes" in flat
    assert "obligatoire" in flat
    assert "facultatif" in flat
    assert "Conservation : 24 mois (730 jours)" in flat  # the RGPD notice, from the settings


def test_show_in_english_translates_the_framing_and_the_labels() -> None:
    result = run("--lang", "en", "survey", "show")
    assert result.exit_code == 0, result.output
    flat = _flat(result.stdout)
    assert "single choice" in flat
    assert "multiple choice" in flat
    assert "required" in flat
    assert "optional" in flat
    assert "choix unique" not in flat
    assert "What is your employment situation?" in flat
    assert "Self-employed, freelance, sole trader" in flat
    assert _flat(QUESTIONNAIRE.question("statut").label) not in flat
    assert "salarie" in flat  # the codes do not change


def test_show_never_lets_a_label_drive_the_terminal(tmp_path: Path) -> None:
    result = run("survey", "show", "--questionnaire", str(_hostile(tmp_path)))
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.stdout
    assert "[bold]gras[/bold]" in result.stdout  # shown, not read as markup


def test_show_names_a_missing_or_invalid_questionnaire(tmp_path: Path) -> None:
    result = run("survey", "show", "--questionnaire", str(tmp_path / "absent.yaml"))
    assert result.exit_code == 1
    assert "Fichier questionnaire introuvable" in result.stderr
    assert "absent.yaml" in result.stderr
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: '2'\nquestions:\n  - id: x\n    type: choix\n", encoding="utf-8")
    result = run("survey", "show", "--questionnaire", str(broken))
    assert result.exit_code == 1
    assert "broken.yaml" in result.stderr
    assert "type « choix » inconnu" in _flat(result.stderr)
    assert "Traceback" not in result.output


# --- LimeSurvey codes ------------------------------------------------------------------


def test_limesurvey_codes_follow_limesurvey_rules() -> None:
    assert limesurvey_code("commune_residence") == "communeresidence"
    assert limesurvey_code("2e_question") == "Q2equestion"
    assert limesurvey_code("été") == "ete"
    assert limesurvey_code("x" * 30) == "x" * 20
    assert limesurvey_subquestion_code("moins_cher") == "moinscher"
    assert limesurvey_subquestion_code("25_50") == "SQ2550"
    wishes = QUESTIONNAIRE.question("envies")
    assert limesurvey_column(wishes) == "envies"
    assert limesurvey_column(wishes, "moins_cher") == "envies[moinscher]"
    mode = QUESTIONNAIRE.question("mode_trajet")
    assert limesurvey_answer_code(mode, "voiture") == "A1"
    assert limesurvey_answer_code(mode, "autre") == f"A{len(mode.options)}"
    with pytest.raises(KeyError):
        limesurvey_answer_code(mode, "avion")


def test_limesurvey_codes_read_back_as_the_option_codes() -> None:
    for question in QUESTIONNAIRE.questions:
        assert LS_CODE.match(limesurvey_code(question.id)), question.id
        for option in question.options:
            if question.type == "choice":
                code = limesurvey_answer_code(question, option.code)
                assert LS_ANSWER.match(code)
            else:
                code = limesurvey_subquestion_code(option.code)
                assert LS_CODE.match(code)
            assert limesurvey_option(question, code) == option.code
            assert limesurvey_option(question, code.lower()) == option.code
            assert limesurvey_option(question, option.code) == option.code
    assert limesurvey_option(QUESTIONNAIRE.question("envies"), "A1") is None  # not a list
    assert limesurvey_option(QUESTIONNAIRE.question("statut"), "inconnu") is None


# --- the .lss file ---------------------------------------------------------------------


def _rows(root: ET.Element, table: str) -> list[dict[str, str]]:
    element = root.find(table)
    assert element is not None, table
    fields = [f.text or "" for f in element.iterfind("fields/fieldname")]
    rows = []
    for row in element.iterfind("rows/row"):
        assert [child.tag for child in row] == fields, table  # every field, in order
        rows.append({child.tag: child.text or "" for child in row})
    return rows


@pytest.fixture(scope="module")
def lss(tmp_path_factory: pytest.TempPathFactory) -> ET.Element:
    """The ``.lss`` file written by ``survey questionnaire --format limesurvey``, parsed."""
    out = tmp_path_factory.mktemp("lss") / "questionnaire.lss"
    result = run("survey", "questionnaire", "--format", "limesurvey", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "Créer un questionnaire > Importer" in _flat(result.stdout)
    data = out.read_bytes()
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<document>')
    return ET.fromstring(data)  # noqa: S314 (our own output)


def test_limesurvey_file_has_the_survey_structure_layout(lss: ET.Element) -> None:
    root = lss
    assert root.findtext("LimeSurveyDocType") == "Survey"
    assert root.findtext("DBVersion") == str(LIMESURVEY_DB_VERSION)
    assert [e.text for e in root.iterfind("languages/language")] == ["fr"]

    (survey,) = _rows(root, "surveys")
    (settings,) = _rows(root, "surveys_languagesettings")
    sid = survey["sid"]
    assert re.fullmatch(r"[1-9]\d{5}", sid)
    assert survey["language"] == "fr"
    assert survey["anonymized"] == "N"  # "Y" would reset every submitdate to 1980
    assert survey["datestamp"] == "Y"
    assert survey["ipaddr"] == "N"
    assert settings["surveyls_survey_id"] == sid
    assert settings["surveyls_title"] == QUESTIONNAIRE.title
    assert "730 jours" in settings["surveyls_welcometext"]
    (group,) = _rows(root, "groups")
    assert (group["sid"], group["language"]) == (sid, "fr")
    questions = _rows(root, "questions")
    assert {(q["sid"], q["gid"]) for q in questions} == {(sid, group["gid"])}


def test_limesurvey_questions_answers_and_subquestions_follow_the_questionnaire(
    lss: ET.Element,
) -> None:
    root = lss
    questions = _rows(root, "questions")
    assert [q["title"] for q in questions] == [
        limesurvey_code(q.id) for q in QUESTIONNAIRE.questions
    ]
    assert [q["question_order"] for q in questions] == [
        str(i) for i in range(1, len(questions) + 1)
    ]
    by_qid = {}
    for row, question in zip(questions, QUESTIONNAIRE.questions, strict=True):
        assert row["parent_qid"] == "0"
        assert row["type"] == LS_TYPES.get(question.type, "Y"), question.id
        assert row["mandatory"] == ("Y" if question.required else "N")
        assert row["question"] == html.escape(question.label, quote=False)
        assert row["language"] == "fr"
        assert row["question_theme_name"]
        by_qid[row["qid"]] = question
    assert len(by_qid) == len(questions)

    answers = _rows(root, "answers")
    subquestions = _rows(root, "subquestions")
    assert {a["qid"] for a in answers} | {s["parent_qid"] for s in subquestions} <= set(by_qid)
    for qid, question in by_qid.items():
        if question.type == "choice":
            rows = [a for a in answers if a["qid"] == qid]
            assert [a["code"] for a in rows] == [f"A{i}" for i in range(1, len(rows) + 1)]
            assert [a["answer"] for a in rows] == [
                html.escape(o.label, quote=False) for o in question.options
            ]
            assert [a["sortorder"] for a in rows] == [str(i) for i in range(1, len(rows) + 1)]
        elif question.type == "multi":
            rows = [s for s in subquestions if s["parent_qid"] == qid]
            assert [s["title"] for s in rows] == [
                limesurvey_subquestion_code(o.code) for o in question.options
            ]
            assert [s["question"] for s in rows] == [
                html.escape(o.label, quote=False) for o in question.options
            ]
            assert all(s["type"] == "T" for s in rows)
        else:
            assert not [a for a in answers if a["qid"] == qid]
    qids = [q["qid"] for q in questions] + [s["qid"] for s in subquestions]
    assert len(set(qids)) == len(qids)
    assert sum(len(q.options) for q in QUESTIONNAIRE.questions if q.type == "choice") == len(
        answers
    )

    attributes = {
        (a["qid"], a["attribute"]): a["value"] for a in _rows(root, "question_attributes")
    }
    travel = next(qid for qid, q in by_qid.items() if q.id == "temps_trajet")
    assert attributes[travel, "min_num_value_n"] == "0"
    assert attributes[travel, "max_num_value_n"] == "300"
    assert attributes[travel, "suffix"] == "minutes"
    comment = next(qid for qid, q in by_qid.items() if q.id == "commentaire")
    assert attributes[comment, "maximum_chars"] == "2000"
    consent = next(qid for qid, q in by_qid.items() if q.type == "consent")
    assert attributes[consent, "em_validation_q"] == 'consentement.NAOK == "Y"'


def test_limesurvey_file_escapes_labels_for_html_and_expression_manager(tmp_path: Path) -> None:
    document = questionnaire_document(Settings(), _hostile(tmp_path))
    root = ET.fromstring(render_limesurvey(document))  # noqa: S314 (our own output)
    (question, _consent) = _rows(root, "questions")
    assert question["title"] == "q1"
    assert "<b>" not in question["question"]
    assert "&lt;b&gt;ici&lt;/b&gt;" in question["question"]
    assert "{INSERTANS}" not in question["question"]  # never evaluated by LimeSurvey
    assert "&#123;INSERTANS&#125;" in question["question"]
    first = _rows(root, "answers")[0]
    assert first["answer"] == "Oui &lt;i&gt;vraiment&lt;/i&gt;"


def test_limesurvey_export_refuses_two_questions_with_the_same_code(tmp_path: Path) -> None:
    path = tmp_path / "clash.yaml"
    path.write_text(
        'version: "x"\nquestions:\n'
        "  - {id: ab, type: text, label: A, critere: c}\n"
        "  - {id: a_b, type: text, label: B, critere: c}\n",
        encoding="utf-8",
    )
    with pytest.raises(SchemaError, match="ab et a_b ont le même code LimeSurvey ab"):
        render_limesurvey(questionnaire_document(Settings(), path))
    result = run("survey", "questionnaire", "--questionnaire", str(path), "--out", "x.lss")
    assert result.exit_code == 1
    assert "même code LimeSurvey" in result.stderr


# --- paper -----------------------------------------------------------------------------


def test_printable_html_has_every_question_numbered_with_its_options_in_order() -> None:
    page = render_questionnaire_html(questionnaire_document(Settings()))
    assert page.startswith("<!DOCTYPE html>")
    assert '<html lang="fr">' in page
    assert "size:A4" in page
    assert page.count("<style") == 1  # the one style sheet, with the print rules
    assert "N° de répondant" in page
    assert "Conservation : 24 mois (730 jours)" in page
    position = 0
    for number, question in enumerate(QUESTIONNAIRE.questions, start=1):
        item = page.index(f'id="q-{question.id}" value="{number}"', position)
        label = page.index(html.escape(question.label), item)
        assert f'<span class="num">{number}.</span>' in page[item:label]
        position = label
        for option in question.options:
            position = page.index(html.escape(option.label), position)
    boxes = len(re.findall(r'<span class="case( ronde)?">', page))
    options = sum(len(q.options) for q in QUESTIONNAIRE.questions)
    assert boxes == options + 1  # one box per option, one for the consent
    single = sum(len(q.options) for q in QUESTIONNAIRE.questions if q.type == "choice")
    assert page.count('<span class="case ronde">') == single  # ◯ one answer, ☐ several


def test_printable_html_escapes_the_questionnaire_text(tmp_path: Path) -> None:
    page = render_questionnaire_html(questionnaire_document(Settings(), _hostile(tmp_path)))
    assert "<script>" not in page
    assert "&lt;script&gt;" in page
    assert "<b>ici</b>" not in page


def test_printable_pdf_is_an_a4_document_with_every_question() -> None:
    pypdf = pytest.importorskip("pypdf")
    data = render_questionnaire_pdf(questionnaire_document(Settings()))
    assert data.startswith(b"%PDF-")
    reader = pypdf.PdfReader(io.BytesIO(data))
    assert 2 <= len(reader.pages) <= 6
    width, height = (float(v) for v in reader.pages[0].mediabox.upper_right)
    assert (round(width), round(height)) == (595, 842)  # A4 in points
    text = _flat(" ".join(page.extract_text() for page in reader.pages))
    for number in range(1, len(QUESTIONNAIRE.questions) + 1):
        assert f"{number}." in text
    assert "Dans quelle commune habitez-vous" in text
    assert "N° de répondant" in text


def test_questionnaire_command_writes_each_format_from_the_suffix(tmp_path: Path) -> None:
    for name, start in (("q.html", b"<!DOCTYPE html>"), ("q.lss", b"<?xml"), ("q.pdf", b"%PDF")):
        out = tmp_path / name
        result = run("survey", "questionnaire", "--out", str(out))
        assert result.exit_code == 0, result.output
        assert out.read_bytes().startswith(start)
        assert "17 questions" in result.stdout
    result = run("survey", "questionnaire", "--out", str(tmp_path / "q.docx"))
    assert result.exit_code == 1
    assert "indiquez --format" in result.stderr
    result = run("survey", "questionnaire", "--format", "odt", "--out", str(tmp_path / "q.odt"))
    assert result.exit_code == 1
    assert "Option --format invalide : odt" in result.stderr


def test_paper_version_is_in_the_language_asked_questions_included(tmp_path: Path) -> None:
    out = tmp_path / "q.html"
    result = run("--lang", "en", "survey", "questionnaire", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "written to" in result.stdout  # the command speaks English
    page = out.read_text(encoding="utf-8")
    assert '<html lang="en">' in page  # the page and its questions are in English
    assert "single choice" in page
    assert "choix unique" not in page
    assert "Which commune do you live in?" in page
    assert "Dans quelle commune habitez-vous ?" not in page
    lss = tmp_path / "q.lss"
    assert run("--lang", "en", "survey", "questionnaire", "--out", str(lss)).exit_code == 0
    survey = lss.read_text(encoding="utf-8")
    # LimeSurvey keeps the definition's French: the labels its exports carry back.
    assert "<language>fr</language>" in survey
    assert "Dans quelle commune habitez-vous ?" in survey


def test_pdf_without_weasyprint_names_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # import fails as if absent
    result = run("survey", "questionnaire", "--out", str(tmp_path / "q.pdf"))
    assert result.exit_code == 1
    assert "pip install weasyprint" in result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "q.pdf").exists()
    result = run("survey", "questionnaire", "--out", str(tmp_path / "q.html"))
    assert result.exit_code == 0, result.output  # the HTML needs no WeasyPrint
