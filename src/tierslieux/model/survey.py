"""The questionnaire of potential users, as versioned data, and one set of answers.

The questionnaire is a YAML file (``data/questionnaire_v1.yaml``), not code: each
question has an ``id``, a ``type`` (:data:`QUESTION_TYPES`), a French ``label``,
``options`` with stable codes (choice and multi), the study criterion it serves
(``critere``, quoting the Coop-connect pre-study) and a ``required`` flag.
:func:`parse_questionnaire` checks a definition and gathers every problem in one
message; :func:`load_questionnaire` reads the packaged version.

The definition is written in French.  Its texts (title, source, labels, criteria,
units) are messages of the translation catalogue like any other: ``tools/i18n.py``
extracts them from the packaged YAML, and :meth:`Questionnaire.translated` gives the
questionnaire in the current language for display.  Codes and ids never change with
the language: what is stored is the same whichever language the respondent read.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import yaml

from tierslieux.errors import SchemaError
from tierslieux.i18n import current_language
from tierslieux.i18n import gettext as _

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime
    from pathlib import Path

__all__ = [
    "CURRENT_VERSION",
    "QUESTION_TYPES",
    "Answer",
    "Option",
    "Question",
    "Questionnaire",
    "Respondent",
    "SurveyIssue",
    "SurveyResponse",
    "fingerprint",
    "limesurvey_answer_code",
    "limesurvey_code",
    "limesurvey_column",
    "limesurvey_option",
    "limesurvey_subquestion_code",
    "load_questionnaire",
    "parse_questionnaire",
]

QUESTION_TYPES: tuple[str, ...] = ("choice", "multi", "number", "commune", "text", "consent")
#: Version of the questionnaire shipped with this release.
CURRENT_VERSION = "1"
#: Default limit of a free-text answer, in characters.
DEFAULT_TEXT_LIMIT = 2000

#: An answer: an option code or commune code (str), codes (tuple), a number (float).
Answer = str | float | tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Option:
    """One possible answer of a choice or multi question."""

    code: str
    label: str
    critere: str | None = None


@dataclass(frozen=True, slots=True)
class Question:
    """One question; ``minimum``/``maximum`` bound numbers, ``max_length`` texts."""

    id: str
    type: str
    label: str
    critere: str
    required: bool = False
    options: tuple[Option, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    unit: str | None = None
    max_length: int = DEFAULT_TEXT_LIMIT

    @property
    def codes(self) -> tuple[str, ...]:
        """Codes of the options, in order."""
        return tuple(option.code for option in self.options)


@dataclass(frozen=True, slots=True)
class Questionnaire:
    """A versioned questionnaire."""

    version: str
    title: str
    source: str
    questions: tuple[Question, ...]

    def question(self, question_id: str) -> Question:
        """Return the question ``question_id``.

        Raises
        ------
        KeyError
            When the questionnaire has no such question.
        """
        for question in self.questions:
            if question.id == question_id:
                return question
        raise KeyError(question_id)

    @property
    def ids(self) -> tuple[str, ...]:
        """Question ids, in order."""
        return tuple(question.id for question in self.questions)

    @property
    def consent(self) -> Question | None:
        """The consent question, if any."""
        return next((q for q in self.questions if q.type == "consent"), None)

    def translated(self) -> Questionnaire:
        """This questionnaire with its texts in the current language (for display).

        Title, source, question labels, criteria, units and option labels go through
        the catalogue (the packaged definition's texts are in it; a text that is not,
        such as one of a questionnaire file of your own, stays as written).  Ids,
        codes, types and bounds are unchanged.  French: the questionnaire itself.
        """
        if current_language() == "fr":
            return self
        return replace(
            self,
            title=_text(self.title),
            source=_text(self.source),
            questions=tuple(_translated_question(q) for q in self.questions),
        )


def _text(text: str | None) -> str:
    """A text of the definition in the current language (empty stays empty)."""
    return _(text) if text else ""


def _translated_question(question: Question) -> Question:
    return replace(
        question,
        label=_text(question.label),
        critere=_text(question.critere),
        unit=_text(question.unit) if question.unit else question.unit,
        options=tuple(
            replace(
                option,
                label=_text(option.label),
                critere=_text(option.critere) if option.critere else option.critere,
            )
            for option in question.options
        ),
    )


@dataclass(frozen=True, slots=True)
class SurveyResponse:
    """One respondent's validated answers, ready to be stored.

    ``commune`` is the INSEE code of the commune of residence; ``answers`` maps
    question ids to codes, numbers or texts (free text is kept as inert text: it is
    never interpreted as HTML); ``fingerprint`` identifies a submission, so that the
    same one imported twice is recognised; ``line`` is where it came from (CSV line).
    """

    commune: str
    questionnaire_version: str
    consent_text: str
    consented_at: datetime
    answers: Mapping[str, Answer]
    fingerprint: str
    source: str = ""
    line: int = 0
    respondent_id: str | None = field(default=None)


@dataclass(frozen=True, slots=True)
class Respondent:
    """A stored respondent as the analysis sees it: pseudonymous id, commune, answers."""

    id: str
    commune: str
    answers: Mapping[str, Answer]


@dataclass(frozen=True, slots=True)
class SurveyIssue:
    """A problem on one line of an answers file (1-based, header is line 1).

    ``question`` is the question id concerned, empty for the whole line; ``column``
    the column(s) of the export concerned, when known.
    """

    line: int
    question: str
    message: str
    column: str = ""


def fingerprint(version: str, answers: Mapping[str, Answer], submission: str | None = None) -> str:
    """Return the SHA-256 identifying a submission.

    Computed from the questionnaire version, the answers and, when the export gives
    one, the submission's own id or timestamp (two people giving exactly the same
    answers are then not taken as a duplicate).
    """
    canonical = json.dumps(
        {
            "v": version,
            "s": submission or "",
            "a": {k: list(v) if isinstance(v, tuple) else v for k, v in sorted(answers.items())},
        },
        ensure_ascii=False,
        sort_keys=True,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def load_questionnaire(path: Path | None = None) -> Questionnaire:
    """Read a questionnaire definition (default: the packaged current version).

    Raises
    ------
    SchemaError
        When the file is not valid YAML or the definition is inconsistent.
    """
    if path is None:
        return _packaged_questionnaire()
    return _parse_text(path.read_text(encoding="utf-8"), str(path))


@lru_cache(maxsize=1)
def _packaged_questionnaire() -> Questionnaire:
    """The packaged current version, read once per process (it is immutable)."""
    resource = resources.files("tierslieux") / "data" / f"questionnaire_v{CURRENT_VERSION}.yaml"
    return _parse_text(resource.read_text(encoding="utf-8"), f"questionnaire_v{CURRENT_VERSION}")


def _parse_text(text: str, where: str) -> Questionnaire:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise SchemaError(
            _("{path} : YAML illisible ({error}).", path=where, error=error)
        ) from error
    return parse_questionnaire(data, where=where)


def _options(raw: Any, qid: str, problems: list[str]) -> tuple[Option, ...]:  # noqa: ANN401
    if not isinstance(raw, list) or not raw:
        problems.append(_("question {id} : options manquantes", id=qid))
        return ()
    options: list[Option] = []
    for item in raw:
        if not isinstance(item, dict) or not item.get("code") or not item.get("label"):
            problems.append(_("question {id} : option sans code ou libellé", id=qid))
            continue
        critere = item.get("critere")
        options.append(
            Option(str(item["code"]), str(item["label"]), None if critere is None else str(critere))
        )
    codes = [o.code for o in options]
    if len(set(codes)) != len(codes):
        problems.append(_("question {id} : codes d'options en double", id=qid))
    return tuple(options)


def _question(raw: Any, problems: list[str]) -> Question | None:  # noqa: ANN401
    if not isinstance(raw, dict):
        problems.append(_("question mal formée : {raw}", raw=str(raw)[:80]))
        return None
    qid = str(raw.get("id") or "")
    qtype = str(raw.get("type") or "")
    before = len(problems)
    if not qid:
        problems.append(_("question sans id"))
    if qtype not in QUESTION_TYPES:
        problems.append(
            _(
                "question {id} : type « {type} » inconnu (attendu : {expected})",
                id=qid,
                type=qtype,
                expected=", ".join(QUESTION_TYPES),
            )
        )
    if not raw.get("label"):
        problems.append(_("question {id} : libellé manquant", id=qid))
    if not raw.get("critere"):
        problems.append(_("question {id} : critère de l'étude manquant", id=qid))
    options = _options(raw.get("options"), qid, problems) if qtype in {"choice", "multi"} else ()
    bounds = [raw.get("min"), raw.get("max")]
    if any(b is not None and not isinstance(b, int | float) for b in bounds):
        problems.append(_("question {id} : bornes min/max non numériques", id=qid))
    if len(problems) > before:
        return None
    return Question(
        id=qid,
        type=qtype,
        label=str(raw["label"]),
        critere=str(raw["critere"]),
        required=bool(raw.get("required", False)),
        options=options,
        minimum=None if bounds[0] is None else float(bounds[0]),
        maximum=None if bounds[1] is None else float(bounds[1]),
        unit=None if raw.get("unit") is None else str(raw["unit"]),
        max_length=int(raw.get("max_length", DEFAULT_TEXT_LIMIT)),
    )


def parse_questionnaire(data: object, *, where: str = "questionnaire") -> Questionnaire:
    """Check a questionnaire definition (parsed YAML) and return it.

    Raises
    ------
    SchemaError
        Listing every problem found (missing id, unknown type, options without
        codes, duplicated ids, no ``version``...).
    """
    if not isinstance(data, dict):
        raise SchemaError(_("{path} : un dictionnaire YAML est attendu.", path=where))
    problems: list[str] = []
    if not data.get("version"):
        problems.append(_("version manquante"))
    raw_questions = data.get("questions")
    if not isinstance(raw_questions, list) or not raw_questions:
        problems.append(_("liste de questions manquante"))
        raw_questions = []
    questions = [q for q in (_question(raw, problems) for raw in raw_questions) if q is not None]
    ids = [q.id for q in questions]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        problems.append(_("ids de questions en double : {ids}", ids=", ".join(duplicated)))
    if problems:
        raise SchemaError(
            _(
                "{path} : questionnaire invalide : {problems}.",
                path=where,
                problems="; ".join(problems),
            )
        )
    return Questionnaire(
        version=str(data["version"]),
        title=str(data.get("titre", "")),
        source=str(data.get("source", "")),
        questions=tuple(questions),
    )


# --- LimeSurvey codes -----------------------------------------------------------------
#: Longest question or sub-question code LimeSurvey accepts (``questions.title``).
LIMESURVEY_CODE_LENGTH = 20
_NOT_ALNUM = re.compile(r"[^A-Za-z0-9]")


def _alphanumeric(text: str, prefix: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    code = _NOT_ALNUM.sub("", ascii_text)
    if not code[:1].isalpha():
        code = prefix + code
    return code[:LIMESURVEY_CODE_LENGTH]


def limesurvey_code(question_id: str) -> str:
    """Return the LimeSurvey question code of the question ``question_id``.

    The code scheme of ``tierslieux survey questionnaire --format limesurvey`` (a
    ``.lss`` file), which LimeSurvey's response exports carry back:

    - question code: the question id with only its ASCII letters and digits kept
      (accents dropped, ``_`` removed), ``Q`` prefixed when it does not start with a
      letter, cut at 20 characters (LimeSurvey's rule: ``commune_residence`` ->
      ``communeresidence``). A response export with question codes as headings names
      the column of a single-answer question by this code;
    - multiple choice (``multi``): one sub-question per option, coded by
      :func:`limesurvey_subquestion_code`; the export's column (:func:`limesurvey_column`) is
      ``code[subcode]`` (``envies[moinscher]``; older versions wrote
      ``envies_moinscher``) and its value ``Y`` when ticked (« Oui » / « Yes » with full
      answers);
    - single choice (``choice``): answer options coded by their position,
      :func:`limesurvey_answer_code` (``A1``, ``A2``...: LimeSurvey allows 5
      characters, too few for the option codes);
    - consent: a Yes/No question (``Y`` / ``N``); numbers, communes and texts: the
      value typed.

    :func:`limesurvey_option` reads any of these codes back as the option code.
    """
    return _alphanumeric(question_id, "Q")


def limesurvey_subquestion_code(option_code: str) -> str:
    """Return the sub-question code of the option ``option_code`` of a ``multi`` question.

    Same rule as :func:`limesurvey_code` (``moins_cher`` -> ``moinscher``), ``SQ``
    prefixed when the code does not start with a letter (``25_50`` -> ``SQ2550``).
    """
    return _alphanumeric(option_code, "SQ")


def limesurvey_answer_code(question: Question, option_code: str) -> str:
    """Return the answer code of the option ``option_code`` of a ``choice`` question.

    ``A`` and the option's position in the questionnaire, from 1 (``A1``, ``A2``...).

    Raises
    ------
    KeyError
        When the question has no such option.
    """
    try:
        position = question.codes.index(option_code)
    except ValueError:
        raise KeyError(option_code) from None
    return f"A{position + 1}"


def limesurvey_column(question: Question, option_code: str | None = None) -> str:
    """Heading of a column of a LimeSurvey response export (« question code » headings).

    The question's code (:func:`limesurvey_code`); for an option of a ``multi``
    question, ``code[subcode]`` (``envies[moinscher]``), as current LimeSurvey
    versions write it (older ones wrote ``envies_moinscher``).
    """
    code = limesurvey_code(question.id)
    if option_code is None:
        return code
    return f"{code}[{limesurvey_subquestion_code(option_code)}]"


def limesurvey_option(question: Question, code: str) -> str | None:
    """Return the option code that a LimeSurvey code of ``question`` stands for.

    ``code`` may be an answer code (``A3``, :func:`limesurvey_answer_code`), a
    sub-question code (:func:`limesurvey_subquestion_code`) or the option code itself;
    case is ignored. ``None`` when it is none of them.
    """
    wanted = code.strip().casefold()
    for position, option in enumerate(question.options, start=1):
        candidates = {
            option.code.casefold(),
            limesurvey_subquestion_code(option.code).casefold(),
        }
        if question.type == "choice":
            candidates.add(f"a{position}")
        if wanted in candidates:
            return option.code
    return None
