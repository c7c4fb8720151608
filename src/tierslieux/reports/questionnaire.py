"""The questionnaire out of the tool: a LimeSurvey survey file and a printable version.

- :func:`render_limesurvey` writes a LimeSurvey *survey structure* file (``.lss``, XML),
  the file LimeSurvey imports with « Create survey > Import ». The layout is the one of
  LimeSurvey 3 (``DBVersion`` 359, LimeSurvey 3.17), which LimeSurvey 4, 5 and 6 still
  import: one group, then one row per question (``questions``), sub-question
  (``subquestions``: the options of a multiple choice) and answer option (``answers``:
  the options of a single choice), with the question attributes (bounds, unit, length,
  the consent check). Codes follow :func:`tierslieux.model.survey.limesurvey_code`, so
  that a response export of that survey maps back to the questionnaire by itself.
- :func:`render_questionnaire_html` and :func:`render_questionnaire_pdf` give the paper
  version (A4; boxes to tick, lines to write, the RGPD notice, a respondent number on
  every page), with the questions numbered and the options ordered exactly as in the
  questionnaire file: the paper data-entry screen follows the same order.  The paper
  version is in the current language (the questionnaire's texts through the catalogue,
  :meth:`~tierslieux.model.survey.Questionnaire.translated`); the LimeSurvey file stays
  in the definition's French, the labels that a LimeSurvey export with full answers
  carries back and the import recognises.

:func:`questionnaire_file` renders one format; :func:`write_questionnaire` writes it
atomically.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
import zlib
from typing import TYPE_CHECKING, Final

from markupsafe import Markup

from tierslieux.errors import SchemaError, SourceError
from tierslieux.files import atomic_write_bytes
from tierslieux.i18n import N_, format_number, use_language
from tierslieux.i18n import gettext as _
from tierslieux.model.survey import (
    limesurvey_answer_code,
    limesurvey_code,
    limesurvey_subquestion_code,
)
from tierslieux.pipeline.campaign_tools import paper_notice
from tierslieux.reports.templates import render_page

if TYPE_CHECKING:
    from pathlib import Path

    from tierslieux.model.survey import Question, Questionnaire
    from tierslieux.pipeline.campaigns import CampaignView
    from tierslieux.pipeline.questionnaire import QuestionnaireDocument

__all__ = [
    "FORMATS",
    "LIMESURVEY_DB_VERSION",
    "consent_notice",
    "question_details",
    "questionnaire_file",
    "render_limesurvey",
    "render_questionnaire_html",
    "render_questionnaire_pdf",
    "type_label",
    "write_questionnaire",
]

#: Output formats of ``tierslieux survey questionnaire`` and their file suffix.
FORMATS: Final = {"limesurvey": ".lss", "html": ".html", "pdf": ".pdf"}
#: ``DBVersion`` written in the ``.lss`` file: LimeSurvey 3.17's
#: (``application/config/version.php``, ``dbversionnumber`` 359).
LIMESURVEY_DB_VERSION: Final = 359
#: Language of the LimeSurvey file: the definition's (French), whose labels the import of
#: a LimeSurvey export with full answers recognises.
QUESTIONNAIRE_LANGUAGE: Final = "fr"

_TYPE_LABELS: Final = {
    "choice": N_("choix unique"),
    "multi": N_("choix multiples"),
    "number": N_("nombre"),
    "commune": N_("commune"),
    "text": N_("texte libre"),
    "consent": N_("consentement"),
}
#: LimeSurvey question type of each question type: L list (radio), M multiple choice,
#: N numerical input, S short free text, T long free text, Y yes/no.
_LIMESURVEY_TYPES: Final = {
    "choice": "L",
    "multi": "M",
    "number": "N",
    "commune": "S",
    "text": "T",
    "consent": "Y",
}
#: Longest commune name typed in the LimeSurvey form (characters; the longest French
#: commune name has 45).
_COMMUNE_CHARS: Final = 100
#: Lines to write on paper for a free text, per 500 characters allowed (at most 6).
_LINES_PER_500: Final = 2
_MAX_LINES: Final = 6


def type_label(question: Question) -> str:
    """The kind of answer in words (« choix unique », « nombre »...), current language."""
    return _(_TYPE_LABELS[question.type])


def _bound(value: float) -> str:
    return format_number(value, 0 if float(value).is_integer() else 2)


def question_details(question: Question) -> str:
    """What the answer must be, in one sentence (bounds, unit, length), or ``""``."""
    if question.type == "number":
        unit = f" {question.unit}" if question.unit else ""
        if question.minimum is not None and question.maximum is not None:
            return _(
                "de {minimum} à {maximum}{unit}",
                minimum=_bound(question.minimum),
                maximum=_bound(question.maximum),
                unit=unit,
            )
        return unit.strip()
    if question.type == "text":
        return _("{n} caractères au plus", n=format_number(question.max_length))
    if question.type == "commune":
        return _("nom de la commune (ou son code Insee)")
    if question.type == "multi":
        return _("plusieurs réponses possibles")
    return ""


def retention_period(days: int) -> str:
    """A retention period in the campaigns' unit, months, when it is whole years
    (« 24 mois (730 jours) »), else in days (the purge counts days)."""
    if days > 0 and days % 365 == 0:
        return _("{months} mois ({days} jours)", months=days // 365 * 12, days=days)
    return _("{days} jours", days=days)


def consent_notice(document: QuestionnaireDocument) -> str:
    """The RGPD notice shown before the questions: purpose and retention period."""
    return _(
        "Finalité : {purpose} Conservation : {period} après le consentement, puis "
        "effacement. Vous pouvez demander à tout moment l'effacement de vos réponses.",
        purpose=document.purpose,
        period=retention_period(document.retention_days),
    )


# --- LimeSurvey ------------------------------------------------------------------------


def _survey_id(questionnaire: Questionnaire) -> int:
    """A stable six-digit survey id (LimeSurvey keeps it when it is free)."""
    return 100000 + zlib.crc32(f"tierslieux-{questionnaire.version}".encode()) % 900000


def _ls_text(text: str) -> str:
    """Label text for LimeSurvey: HTML escaped, braces kept away from Expression Manager."""
    return html.escape(text, quote=False).replace("{", "&#123;").replace("}", "&#125;")


#: Characters XML 1.0 forbids (control characters such as ESC): left out of the file.
_NOT_XML: Final = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class _Table:
    """One table of the ``.lss`` document: ``<fields>`` then ``<rows>``."""

    def __init__(self, document: ET.Element, name: str, fields: tuple[str, ...]) -> None:
        self.fields = fields
        element = ET.SubElement(document, name)
        names = ET.SubElement(element, "fields")
        for field in fields:
            ET.SubElement(names, "fieldname").text = field
        self.rows = ET.SubElement(element, "rows")

    def add(self, **values: object) -> None:
        row = ET.SubElement(self.rows, "row")
        for field in self.fields:
            cell = ET.SubElement(row, field)
            value = values.get(field)
            if value is not None and value != "":
                cell.text = _NOT_XML.sub("", str(value))


_QUESTION_FIELDS: Final = (
    "qid",
    "parent_qid",
    "sid",
    "gid",
    "type",
    "title",
    "question",
    "preg",
    "help",
    "other",
    "mandatory",
    "question_order",
    "language",
    "scale_id",
    "same_default",
    "relevance",
    "modulename",
    "question_theme_name",
)
#: Core question theme of each LimeSurvey type (``question_theme_name``, LimeSurvey 5
#: and later; LimeSurvey 3 ignores the field).
_LIMESURVEY_THEMES: Final = {
    "L": "listradio",
    "M": "multiplechoice",
    "N": "numerical",
    "S": "shortfreetext",
    "T": "longfreetext",
    "Y": "yesno",
}


def _check_codes(questionnaire: Questionnaire) -> None:
    problems: list[str] = []
    seen: dict[str, str] = {}
    for question in questionnaire.questions:
        code = limesurvey_code(question.id)
        if code.casefold() in seen:
            problems.append(
                _(
                    "les questions {a} et {b} ont le même code LimeSurvey {code}",
                    a=seen[code.casefold()],
                    b=question.id,
                    code=code,
                )
            )
        seen[code.casefold()] = question.id
        if question.type == "multi":
            subcodes = [limesurvey_subquestion_code(o.code).casefold() for o in question.options]
            if len(set(subcodes)) != len(subcodes):
                problems.append(
                    _(
                        "question {id} : deux options ont le même code LimeSurvey",
                        id=question.id,
                    )
                )
    if problems:
        raise SchemaError(
            _(
                "Questionnaire non exportable vers LimeSurvey : {problems} (changez les "
                "identifiants dans le fichier du questionnaire).",
                problems="; ".join(problems),
            )
        )


def _attributes(question: Question) -> list[tuple[str, str, str]]:
    """LimeSurvey question attributes ``(name, value, language)`` of ``question``."""
    attributes: list[tuple[str, str, str]] = []
    if question.type == "number":
        if question.minimum is not None:
            attributes.append(("min_num_value_n", f"{question.minimum:g}", ""))
        if question.maximum is not None:
            attributes.append(("max_num_value_n", f"{question.maximum:g}", ""))
        if question.unit:
            attributes.append(("suffix", question.unit, QUESTIONNAIRE_LANGUAGE))
    elif question.type == "text":
        attributes.append(("maximum_chars", str(question.max_length), ""))
    elif question.type == "commune":
        attributes.append(("maximum_chars", str(_COMMUNE_CHARS), ""))
    elif question.type == "consent":
        # Mandatory is not enough on a yes/no question: « Non » must not be accepted.
        attributes.append(("em_validation_q", f'{limesurvey_code(question.id)}.NAOK == "Y"', ""))
        attributes.append(
            (
                "em_validation_q_tip",
                _("Votre accord est nécessaire pour enregistrer vos réponses."),
                QUESTIONNAIRE_LANGUAGE,
            )
        )
    return attributes


def render_limesurvey(document: QuestionnaireDocument) -> bytes:
    """Return the LimeSurvey survey structure file (``.lss``) of the questionnaire.

    One group holds every question, in the questionnaire's order; the welcome text
    gives the purpose and the retention period (RGPD), the consent is a mandatory
    yes/no question that only « Oui » passes. Response timestamps are kept
    (``datestamp``: the export's ``submitdate`` dates the consent), IP addresses and
    referrer URLs are not.

    Raises
    ------
    SchemaError
        When two questions (or two options of a question) would get the same code.
    """
    questionnaire = document.questionnaire
    _check_codes(questionnaire)
    lang = QUESTIONNAIRE_LANGUAGE
    sid, gid = _survey_id(questionnaire), 1
    root = ET.Element("document")
    ET.SubElement(root, "LimeSurveyDocType").text = "Survey"
    ET.SubElement(root, "DBVersion").text = str(LIMESURVEY_DB_VERSION)
    ET.SubElement(ET.SubElement(root, "languages"), "language").text = lang

    answers = _Table(
        root,
        "answers",
        ("qid", "code", "answer", "sortorder", "assessment_value", "language", "scale_id"),
    )
    groups = _Table(
        root,
        "groups",
        (
            "gid",
            "sid",
            "group_name",
            "group_order",
            "description",
            "language",
            "randomization_group",
            "grelevance",
        ),
    )
    questions = _Table(root, "questions", _QUESTION_FIELDS)
    subquestions = _Table(root, "subquestions", _QUESTION_FIELDS)
    attributes = _Table(root, "question_attributes", ("qid", "attribute", "value", "language"))
    title = questionnaire.title or _("Questionnaire")
    groups.add(
        gid=gid,
        sid=sid,
        group_name=_ls_text(title),
        group_order=0,
        language=lang,
        grelevance="1",
    )
    next_qid = 1
    for order, question in enumerate(questionnaire.questions, start=1):
        qid, kind = next_qid, _LIMESURVEY_TYPES[question.type]
        next_qid += 1
        common = {"sid": sid, "gid": gid, "language": lang, "scale_id": 0, "same_default": 0}
        questions.add(
            qid=qid,
            parent_qid=0,
            type=kind,
            title=limesurvey_code(question.id),
            question=_ls_text(question.label),
            help=_ls_text(question_details(question)),
            other="N",
            mandatory="Y" if question.required else "N",
            question_order=order,
            relevance="1",
            question_theme_name=_LIMESURVEY_THEMES[kind],
            **common,
        )
        for position, option in enumerate(question.options, start=1):
            if question.type == "multi":
                subquestions.add(  # typed T, as LimeSurvey's own exports do
                    qid=next_qid,
                    parent_qid=qid,
                    type="T",
                    title=limesurvey_subquestion_code(option.code),
                    question=_ls_text(option.label),
                    other="N",
                    mandatory="N",
                    question_order=position,
                    relevance="1",
                    **common,
                )
                next_qid += 1
            else:
                answers.add(
                    qid=qid,
                    code=limesurvey_answer_code(question, option.code),
                    answer=_ls_text(option.label),
                    sortorder=position,
                    assessment_value=0,
                    language=lang,
                    scale_id=0,
                )
        for name, value, language in _attributes(question):
            attributes.add(qid=qid, attribute=name, value=value, language=language)

    _Table(
        root,
        "surveys",
        (
            "sid",
            "language",
            "additional_languages",
            "format",
            "anonymized",
            "datestamp",
            "ipaddr",
            "refurl",
            "usecookie",
            "allowsave",
            "allowprev",
            "showwelcome",
            "showprogress",
            "showqnumcode",
            "shownoanswer",
        ),
    ).add(
        sid=sid,
        language=lang,
        format="G",
        anonymized="N",  # "Y" would reset every submitdate to 1980-01-01
        datestamp="Y",
        ipaddr="N",
        refurl="N",
        usecookie="N",
        allowsave="N",
        allowprev="Y",
        showwelcome="Y",
        showprogress="Y",
        showqnumcode="N",
        shownoanswer="N",
    )
    welcome = "".join(
        f"<p>{_ls_text(text)}</p>"
        for text in (
            _("Questionnaire version {version}.", version=questionnaire.version),
            consent_notice(document),
        )
    )
    _Table(
        root,
        "surveys_languagesettings",
        (
            "surveyls_survey_id",
            "surveyls_language",
            "surveyls_title",
            "surveyls_description",
            "surveyls_welcometext",
            "surveyls_endtext",
            "surveyls_numberformat",
        ),
    ).add(
        surveyls_survey_id=sid,
        surveyls_language=lang,
        surveyls_title=_ls_text(title),
        surveyls_description=_ls_text(questionnaire.source),
        surveyls_welcometext=welcome,
        surveyls_endtext=f"<p>{_ls_text(_('Merci pour vos réponses.'))}</p>",
        surveyls_numberformat=1,  # decimal comma
    )
    ET.indent(root, space=" ")
    body = ET.tostring(root, encoding="unicode")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n").encode("utf-8")


# --- paper -----------------------------------------------------------------------------


def _css_string(text: str) -> Markup:
    """``text`` as a CSS string literal, safe inside ``<style>`` (hex escapes)."""
    escaped = "".join(ch if ch.isalnum() or ch in " .:°-_()" else f"\\{ord(ch):x} " for ch in text)
    return Markup(f'"{escaped}"')  # noqa: S704 (every other character is hex-escaped)


def _digits(question: Question) -> int:
    """Boxes to write a number in: the digits of its maximum (4 when unbounded)."""
    if question.maximum is None:
        return 4
    return max(1, len(str(int(abs(question.maximum)))))


def _write_lines(question: Question) -> int:
    if question.type == "text":
        return min(_MAX_LINES, max(3, _LINES_PER_500 * -(-question.max_length // 500)))
    return 1


def render_questionnaire_html(
    document: QuestionnaireDocument, campaign: CampaignView | None = None
) -> str:
    """Return the printable questionnaire as one self-contained HTML page (A4).

    With ``campaign``, its paper version: the campaign's title, its consent notice
    (controller, purpose, retention: :func:`~tierslieux.pipeline.campaign_tools.paper_notice`)
    and a box for the sheet number that the data-entry screen asks for.
    """
    questionnaire = document.questionnaire.translated()
    items = [
        {
            "number": number,
            "question": question,
            "kind": type_label(question),
            "details": question_details(question),
            "lines": _write_lines(question),
            "digits": _digits(question),
        }
        for number, question in enumerate(questionnaire.questions, start=1)
    ]
    if campaign is not None:
        return render_page(
            "questionnaire.html",
            questionnaire=questionnaire,
            title=campaign.title,
            items=items,
            notice=paper_notice(campaign),
            number_label=_("N° de feuille"),
            number_hint=_("(rempli à la saisie)"),
            page_number=_css_string(_("N° de feuille : ") + "_" * 14),
        )
    return render_page(
        "questionnaire.html",
        questionnaire=questionnaire,
        title=questionnaire.title or _("Questionnaire"),
        items=items,
        notice=consent_notice(document),
        number_label=_("N° de répondant"),
        number_hint="",
        page_number=_css_string(_("N° de répondant : ") + "_" * 14),
    )


def render_questionnaire_pdf(
    document: QuestionnaireDocument, campaign: CampaignView | None = None
) -> bytes:
    """Return the printable questionnaire as a PDF (A4), rendered by WeasyPrint.

    Raises
    ------
    SourceError
        When WeasyPrint (or the Pango library it needs) is not installed.
    """
    try:
        import weasyprint  # type: ignore[import-untyped]  # noqa: PLC0415 - only for a PDF
    except (ImportError, OSError) as error:
        raise SourceError(
            _(
                "Le PDF demande WeasyPrint et la bibliothèque Pango (pip install weasyprint ; "
                "voir doc.courtbouillon.org/weasyprint) : {error}. Écrivez la version "
                "HTML et imprimez-la depuis un navigateur.",
                error=error,
            )
        ) from error
    page = render_questionnaire_html(document, campaign)
    pdf = weasyprint.HTML(string=page).write_pdf()
    return bytes(pdf) if pdf is not None else b""


def questionnaire_file(
    document: QuestionnaireDocument, fmt: str, campaign: CampaignView | None = None
) -> bytes:
    """Render the questionnaire in the format ``fmt`` (:data:`FORMATS`) as bytes.

    The paper version (``html``, ``pdf``) is in the current language, questions
    included; the LimeSurvey file in the definition's language
    (:data:`QUESTIONNAIRE_LANGUAGE`), whose labels an export carries back to the import.
    ``campaign``: the paper version of that campaign (``html`` and ``pdf``).
    """
    if fmt == "limesurvey":
        with use_language(QUESTIONNAIRE_LANGUAGE):
            return render_limesurvey(document)
    if fmt == "html":
        return render_questionnaire_html(document, campaign).encode("utf-8")
    if fmt == "pdf":
        return render_questionnaire_pdf(document, campaign)
    raise SchemaError(
        _(
            "Format inconnu : {format} (attendu : {expected}).",
            format=fmt,
            expected=", ".join(FORMATS),
        )
    )


def write_questionnaire(document: QuestionnaireDocument, fmt: str, out: Path) -> Path:
    """Render the questionnaire in the format ``fmt`` and write it to ``out`` atomically."""
    return atomic_write_bytes(out, questionnaire_file(document, fmt)).resolve()
