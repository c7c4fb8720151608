"""The questionnaire of potential users, as versioned data, and one set of answers.

The questionnaire is a YAML file (``data/questionnaire_v1.yaml``), not code: each
question has an ``id``, a ``type`` (:data:`QUESTION_TYPES`), a French ``label``,
``options`` with stable codes (choice and multi), the study criterion it serves
(``critere``, quoting the Coop-connect pre-study) and a ``required`` flag.
:func:`parse_questionnaire` checks a definition and gathers every problem in one
message; :func:`load_questionnaire` reads the packaged version.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING, Any

import yaml

from tierslieux.errors import SchemaError
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
        resource = resources.files("tierslieux") / "data" / f"questionnaire_v{CURRENT_VERSION}.yaml"
        text, where = resource.read_text(encoding="utf-8"), f"questionnaire_v{CURRENT_VERSION}"
    else:
        text, where = path.read_text(encoding="utf-8"), str(path)
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
