"""Questionnaire answers exported by common survey tools and their mapping.

LimeSurvey, Google Forms, Microsoft Forms, Framaforms or a spreadsheet all export one
line per submission (CSV or XLSX, read by :mod:`tierslieux.sources.survey_formats`),
with their own column names and answer labels.  A YAML *mapping* file says which
column answers which question, and which label means which option code::

    questionnaire: "1"            # version of the questionnaire answered
    outil: limesurvey             # optional: tool that wrote the export (information)
    soumission: "Horodateur"      # optional: submission id or timestamp (duplicates)
    date_consentement: "Horodateur"  # optional: date of consent (else: import time)
    separateur_multiple: ";"      # optional: between the answers of a multi question
    autre_libre: true             # optional: an unknown answer counts as « Autre »
    texte_consentement: "..."     # optional: consent text shown by the tool
    colonnes:                     # column of the export -> question id
      "Votre commune de résidence": commune_residence
      "Q9[SQ001]": envies.proche  # one column per option: question.option
      "id": null                  # column read but not imported
    reponses:                     # optional, per question: label of the export -> code
      statut:
        "Freelance": independant

Option codes and the questionnaire's own labels are always recognised (whatever the
case and accents); the answers of a multi question are matched against the known
labels, longest first, so that a label containing a comma is not cut.  A column
``question.option`` holds ``Y``/« Oui »/``X``/``1`` when the option is ticked and
``N``/« Non »/empty otherwise.  Several columns mapped to the same question combine.

Every field is checked.  A line whose required answer is faulty is rejected with its
line, column and reason; a faulty optional answer is dropped with a note (line,
column, value, reason) and the rest of the line kept.  Free text is kept as inert
text (never interpreted as HTML), stripped of control characters and cut at the
question's ``max_length``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import PurePath
from typing import TYPE_CHECKING

import yaml

from tierslieux.errors import SchemaError
from tierslieux.i18n import N_
from tierslieux.i18n import gettext as _
from tierslieux.model.survey import (
    SurveyIssue,
    SurveyResponse,
    fingerprint,
    limesurvey_option,
)
from tierslieux.sources._files import require_file
from tierslieux.sources.survey_formats import ExportTable, fold, read_export

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from pathlib import Path

    import pandas as pd

    from tierslieux.model.survey import Answer, Question, Questionnaire

__all__ = [
    "CommuneIndex",
    "SurveyImport",
    "SurveyMapping",
    "fold",
    "known_labels",
    "load_mapping",
    "mapping_from_dict",
    "match_option",
    "parse_submission",
    "read_survey_csv",
    "read_survey_table",
    "split_multi",
]

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_YES = frozenset({"oui", "yes", "true", "vrai", "1", "x", "o", "y", "ok", "d_accord"})
#: Values of an option column meaning "not ticked".
_NO = frozenset({"", "non", "no", "n", "0", "false", "faux", "n_a", "na", "pas_de_reponse"})
_DEP_SUFFIX = re.compile(r"^(.*?)\s*\((\w{2,3}|\w{5})\)\s*$")
_MAX_LISTED = 10
#: LimeSurvey's answer code of the "other" option of a list question.
_OTHER_CODES = frozenset({"oth", "_oth_", "other", "autre"})


@dataclass(frozen=True, slots=True)
class SurveyMapping:
    """How the columns and labels of one export map onto the questionnaire.

    ``columns`` maps a column to a question id, or to ``question.option`` for a
    column holding one option of a multiple-choice (ticked or not).
    """

    version: str
    columns: dict[str, str]
    labels: dict[str, dict[str, str]]
    submission_column: str | None = None
    consent_date_column: str | None = None
    multi_separator: str = ";"
    consent_text: str | None = None
    #: An answer matching no option counts as « Autre » (reported) where it exists.
    free_other: bool = False
    tool: str = "generic"
    #: Columns of the export read but not imported (``null`` in the file).
    ignored: tuple[str, ...] = ()

    def target(self, column: str) -> tuple[str, str | None]:
        """``(question id, option code or None)`` of a mapped column."""
        qid, _sep, code = self.columns[column].partition(".")
        return qid, code or None


@dataclass(frozen=True, slots=True)
class SurveyImport:
    """Outcome of :func:`read_survey_csv`: valid answers, rejected lines, warnings."""

    responses: tuple[SurveyResponse, ...]
    issues: tuple[SurveyIssue, ...]
    warnings: tuple[SurveyIssue, ...]
    encoding: str
    separator: str
    lines: int


def _yaml_error(path: Path, error: yaml.YAMLError) -> SchemaError:
    """A French message naming the line and column of a YAML syntax error."""
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    if mark is None:
        return SchemaError(
            _("{path} : YAML illisible (vérifiez l'indentation et les guillemets).", path=path)
        )
    return SchemaError(
        _(
            "{path}, ligne {line}, colonne {column} : YAML illisible à cet endroit (vérifiez "
            "l'indentation, les « : » et que les guillemets sont bien fermés).",
            path=path,
            line=mark.line + 1,
            column=mark.column + 1,
        )
    )


def _check_columns(
    columns: Mapping[str, str], questionnaire: Questionnaire, problems: list[str]
) -> None:
    unknown: set[str] = set()
    for column, target in columns.items():
        qid, _sep, code = target.partition(".")
        if qid not in questionnaire.ids:
            unknown.add(qid)
            continue
        question = questionnaire.question(qid)
        if code and (question.type not in {"multi", "choice"} or code not in question.codes):
            problems.append(
                _(
                    "colonnes.« {column} » : option « {code} » inconnue pour {id} (codes : "
                    "{codes})",
                    column=column,
                    code=code,
                    id=qid,
                    codes=", ".join(question.codes) or "—",
                )
            )
    if unknown:
        problems.append(
            _(
                "question(s) inconnue(s) : {ids} (questions : {known})",
                ids=", ".join(sorted(unknown)),
                known=", ".join(questionnaire.ids),
            )
        )


def _check_labels(
    raw_labels: object, questionnaire: Questionnaire, problems: list[str]
) -> dict[str, dict[str, str]]:
    labels: dict[str, dict[str, str]] = {}
    if not isinstance(raw_labels, dict):
        problems.append(_("section « reponses » mal formée"))
        return labels
    for qid, table in raw_labels.items():
        if table is None:  # a question whose labels are all commented out
            continue
        if qid not in questionnaire.ids or not isinstance(table, dict):
            problems.append(_("reponses : question inconnue ou mal formée « {id} »", id=qid))
            continue
        codes = questionnaire.question(str(qid)).codes
        bad = sorted({str(c) for c in table.values() if str(c) not in codes})
        if bad:
            problems.append(
                _(
                    "reponses.{id} : code(s) inconnu(s) {bad} (codes : {codes})",
                    id=qid,
                    bad=", ".join(bad),
                    codes=", ".join(codes),
                )
            )
        labels[str(qid)] = {str(k).strip(): str(v) for k, v in table.items()}
    return labels


def load_mapping(path: Path, questionnaire: Questionnaire) -> SurveyMapping:
    """Read and check a mapping YAML file against the questionnaire.

    Raises
    ------
    SourceError
        When the file is missing or empty.
    SchemaError
        On a YAML syntax error (file, line and column), or listing every problem:
        unknown question ids or option codes, a questionnaire version other than
        ``questionnaire``'s.
    """
    require_file(path, N_("correspondance"))
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as error:
        raise SchemaError(
            _("{path} : la correspondance doit être enregistrée en UTF-8.", path=path)
        ) from error
    except yaml.YAMLError as error:
        raise _yaml_error(path, error) from error
    if not isinstance(data, dict):
        raise SchemaError(_("{path} : un dictionnaire YAML est attendu.", path=path))
    return mapping_from_dict(data, questionnaire, where=str(path))


def mapping_from_dict(
    data: Mapping[str, object], questionnaire: Questionnaire, *, where: str
) -> SurveyMapping:
    """Check a mapping given as a dictionary (a parsed YAML file, a proposal).

    Raises
    ------
    SchemaError
        Listing every problem, under ``where``.
    """
    problems: list[str] = []
    version = str(data.get("questionnaire", questionnaire.version))
    if version != questionnaire.version:
        problems.append(
            _(
                "questionnaire version {given} ; cette version de tierslieux lit la {known}",
                given=version,
                known=questionnaire.version,
            )
        )
    raw_columns = data.get("colonnes")
    if not isinstance(raw_columns, dict) or not raw_columns:
        problems.append(_("section « colonnes » manquante (colonne de l'export -> question)"))
        raw_columns = {}
    columns = {str(k).strip(): str(v).strip() for k, v in raw_columns.items() if v is not None}
    ignored = tuple(str(k).strip() for k, v in raw_columns.items() if v is None)
    _check_columns(columns, questionnaire, problems)
    labels = _check_labels(data.get("reponses") or {}, questionnaire, problems)
    if problems:
        raise SchemaError(
            _(
                "{path} : correspondance invalide : {problems}.",
                path=where,
                problems="; ".join(problems),
            )
        )
    submission = data.get("soumission")
    consent_date = data.get("date_consentement")
    consent = data.get("texte_consentement")
    return SurveyMapping(
        version=version,
        columns=columns,
        labels=labels,
        submission_column=None if submission is None else str(submission).strip(),
        consent_date_column=None if consent_date is None else str(consent_date).strip(),
        multi_separator=str(data.get("separateur_multiple", ";")),
        consent_text=None if consent is None else str(consent).strip(),
        free_other=bool(data.get("autre_libre", False)),
        tool=str(data.get("outil", "generic")),
        ignored=ignored,
    )


class _Communes:
    """Commune names and codes of the communes table, for resolving answers.

    ``territory``: the codes of the communes of the survey's territory (a campaign's
    project); a bare name shared by several communes is read as the one of them that
    lies in it, when exactly one does (« Mane » in a territory of the 04, not Mane 31).
    """

    def __init__(self, table: pd.DataFrame, territory: Iterable[str] = ()) -> None:
        self.codes = {str(c) for c in table["code"]}
        self.territory = frozenset(str(c) for c in territory)
        self.by_name: dict[str, list[str]] = {}
        self.dep = {str(c): str(d) for c, d in zip(table["code"], table["dep"], strict=True)}
        self.names: dict[str, str] = {}
        for code, name in zip(table["code"], table["nom"], strict=True):
            self.by_name.setdefault(fold(str(name)), []).append(str(code))
            self.names.setdefault(str(code), str(name))

    def choices(self, codes: list[str]) -> list[str]:
        """How to write each commune of ``codes`` unambiguously: « Nom (département) »,
        « Nom (code Insee) » when the département does not tell them apart."""
        deps = [self.dep.get(code, "") for code in codes]
        return [
            f"{self.names.get(code, code)} ({dep if dep and deps.count(dep) == 1 else code})"
            for code, dep in zip(codes, deps, strict=True)
        ]

    def resolve(self, text: str) -> tuple[str | None, str | None]:
        """Return ``(code, None)`` or ``(None, reason)``."""
        value = text.strip()
        if value in self.codes:
            return value, None
        hint = None
        match = _DEP_SUFFIX.match(value)
        if match:
            value, hint = match.group(1), match.group(2)
        found = self.by_name.get(fold(value), [])
        if hint is not None:
            found = [c for c in found if hint in {c, self.dep.get(c)}]
        if len(found) == 1:
            return found[0], None
        inside = [c for c in found if c in self.territory]
        if len(inside) == 1:  # the one homonym of the territory
            return inside[0], None
        if not found:
            return None, _(
                "« {value} » n'est pas une commune de la table des communes (nom ou code "
                "Insee attendu)",
                value=text[:80],
            )
        return None, _(
            "« {value} » désigne plusieurs communes : choisissez l'une d'elles, {choices} "
            "(ou indiquez le code Insee)",
            value=text[:80],
            choices=", ".join(f"« {c} »" for c in self.choices(sorted(found))),
        )


#: Index of commune names and codes, built once for many submissions (web form).
CommuneIndex = _Communes


def _number(text: str) -> float | None:
    cleaned = text.replace("\u202f", "").replace("\xa0", "").replace(" ", "").replace(",", ".")
    for suffix in ("minutes", "min", "mn", "€", "euros", "jours", "j"):
        if cleaned.lower().endswith(suffix):
            cleaned = cleaned[: -len(suffix)]
            break
    try:
        return float(cleaned)
    except ValueError:
        return None


@dataclass
class _Line:
    number: int
    answers: dict[str, Answer]
    issues: list[SurveyIssue]
    warnings: list[SurveyIssue]


def known_labels(question: Question, mapping: SurveyMapping) -> list[tuple[str, str]]:
    """``(loose label, code)`` of every text meaning an option, longest first."""
    pairs = [(_loose(label), code) for label, code in mapping.labels.get(question.id, {}).items()]
    for option in question.options:
        pairs.extend(((_loose(option.label), option.code), (_loose(option.code), option.code)))
    return sorted({p for p in pairs if p[0]}, key=lambda p: -len(p[0]))


@lru_cache(maxsize=4096)  # the options' labels, folded for every answer of a form
def _loose(text: str) -> str:
    """Lower-case, no accents, typographic apostrophes and spaces made plain.

    Unlike :func:`fold`, punctuation is kept, so that positions in a joined answer
    can be compared label by label.
    """
    out: list[str] = []
    for char in text.lower().replace("’", "'").replace("\xa0", " ").replace("\u202f", " "):
        decomposed = unicodedata.normalize("NFKD", char)
        out.append("".join(c for c in decomposed if not unicodedata.combining(c)))
    return " ".join("".join(out).split())


def match_option(question: Question, mapping: SurveyMapping, text: str) -> str | None:
    key = fold(text)
    for label, code in mapping.labels.get(question.id, {}).items():
        if fold(label) == key:
            return code
    for option in question.options:
        if key in {fold(option.code), fold(option.label)}:
            return option.code
    if key in _OTHER_CODES and "autre" in question.codes:
        return "autre"
    # A LimeSurvey export "with answer codes" of the questionnaire exported by tierslieux
    # (.lss) writes A1, A2... for single choices (model.survey.limesurvey_answer_code).
    return limesurvey_option(question, text)


def split_multi(
    text: str, labels: Sequence[tuple[str, str]], separator: str
) -> tuple[list[str], list[str]]:
    """Split the answers of a multi question: ``(codes, unknown parts)``.

    ``labels`` are ``(loose label, code)`` pairs, longest first: at each place the
    longest label followed by a separator (``;``, ``,``, ``separator``) or the end
    is taken, so that « Garde, scolarité » stays one answer.  A part matching no
    label runs to the next separator followed by a known label (free "other" text).
    """
    loose = _loose(text)
    seps = {";", ",", separator.strip() or ";"}
    codes: list[str] = []
    unknown: list[str] = []
    i = 0

    def boundary(end: int) -> bool:
        rest = loose[end:].lstrip()
        return not rest or rest[0] in seps

    def label_at(pos: int) -> tuple[str, str] | None:
        return next(
            (p for p in labels if loose.startswith(p[0], pos) and boundary(pos + len(p[0]))),
            None,
        )

    while i < len(loose):
        while i < len(loose) and (loose[i] in seps or loose[i] == " "):
            i += 1
        if i >= len(loose):
            break
        found = label_at(i)
        if found is not None:
            if found[1] not in codes:
                codes.append(found[1])
            i += len(found[0])
            continue
        end = i
        while end < len(loose):
            end += 1
            if end < len(loose) and loose[end] in seps:
                after = end + 1
                while after < len(loose) and loose[after] == " ":
                    after += 1
                if label_at(after) is not None:
                    break
        part = loose[i:end].strip(" ;,")
        if part:
            unknown.append(part)
        i = end
    return codes, unknown


def _unknown_option(question: Question, text: str) -> str:
    return _(
        "réponse « {value} » inconnue (attendu : {labels}) ; ajoutez-la à la section "
        "« reponses » de la correspondance",
        value=text[:80],
        labels=" / ".join(o.label for o in question.options),
    )


@dataclass
class _Cells:
    """What the columns of one line say about one question."""

    texts: list[tuple[str, str]] = field(default_factory=list)  # (column, text)
    ticked: list[tuple[str, str]] = field(default_factory=list)  # (column, option code)
    others: list[tuple[str, str]] = field(default_factory=list)  # (column, free text)


class _Fault(Exception):  # noqa: N818  (control flow, never leaves the module)
    def __init__(self, columns: Sequence[str], message: str) -> None:
        super().__init__(message)
        self.columns = tuple(dict.fromkeys(columns))
        self.message = message


def _other(question: Question, mapping: SurveyMapping, column: str, text: str) -> str:
    """Code « autre » for a free answer when allowed, else a fault."""
    if "autre" in question.codes and mapping.free_other:
        return "autre"
    raise _Fault((column,), _unknown_option(question, text))


def _choice(question: Question, cells: _Cells, mapping: SurveyMapping) -> tuple[str | None, str]:
    found: list[tuple[str, str]] = list(cells.ticked)
    for column, text in cells.texts:
        code = match_option(question, mapping, text)
        found.append(
            (column, code if code is not None else _other(question, mapping, column, text))
        )
    found.extend((column, "autre") for column, _text in cells.others if "autre" in question.codes)
    codes = list(dict.fromkeys(code for _column, code in found))
    if len(codes) > 1:
        raise _Fault(
            [c for c, _code in found],
            _(
                "plusieurs réponses ({codes}) pour une question à réponse unique",
                codes=", ".join(codes),
            ),
        )
    return (codes[0] if codes else None), (found[0][0] if found else "")


def _multi(question: Question, cells: _Cells, mapping: SurveyMapping) -> tuple[str, ...]:
    codes = [code for _column, code in cells.ticked]
    labels = known_labels(question, mapping)
    for column, text in cells.texts:
        found, unknown = split_multi(text, labels, mapping.multi_separator)
        codes.extend(found)
        codes.extend(_other(question, mapping, column, part) for part in unknown)
    if cells.others and "autre" in question.codes:
        codes.append("autre")
    order = {code: i for i, code in enumerate(question.codes)}  # whatever the columns' order
    return tuple(sorted(dict.fromkeys(codes), key=order.__getitem__))


def _single_text(cells: _Cells) -> tuple[str, str]:
    values = list(dict.fromkeys(text for _column, text in cells.texts))
    if len(values) > 1:
        raise _Fault(
            [c for c, _t in cells.texts],
            _("réponses différentes dans plusieurs colonnes : {values}", values=" / ".join(values)),
        )
    return cells.texts[0][0], values[0]


def _scalar(question: Question, text: str, column: str, context: _Context) -> Answer:
    if question.type == "number":
        value = _number(text)
        if value is None:
            raise _Fault((column,), _("« {value} » n'est pas un nombre", value=text[:80]))
        low = question.minimum if question.minimum is not None else float("-inf")
        high = question.maximum if question.maximum is not None else float("inf")
        if not low <= value <= high:
            raise _Fault(
                (column,),
                _(
                    "valeur impossible : {value:g} {unit} (attendu entre {low:g} et {high:g})",
                    value=value,
                    unit=question.unit or "",
                    low=low,
                    high=high,
                ),
            )
        return value
    if question.type == "commune":
        code, reason = context.communes.resolve(text)
        if code is None:
            raise _Fault((column,), reason or "")
        return code
    if fold(text) in _YES or fold(text).startswith(("j_accepte", "accepte", "oui")):
        return "oui"
    raise _Fault(
        (column,),
        _("consentement non donné (« {value} ») : réponse non enregistrée", value=text[:80]),
    )


def _free_text(question: Question, cells: _Cells, line: _Line, column: str) -> str:
    cleaned = _CONTROL.sub("", "\n".join(dict.fromkeys(t for _c, t in cells.texts)))
    if len(cleaned) > question.max_length:
        line.warnings.append(
            SurveyIssue(
                line.number,
                question.id,
                _(
                    "texte de {n} caractères coupé à {limit}",
                    n=len(cleaned),
                    limit=question.max_length,
                ),
                column,
            )
        )
        cleaned = cleaned[: question.max_length]
    return cleaned


def _answer(question: Question, cells: _Cells, line: _Line, context: _Context) -> Answer | None:
    """The answer of ``question`` on one line (``None``: no answer); raises :class:`_Fault`."""
    mapping = context.mapping
    if question.type == "choice":
        code, column = _choice(question, cells, mapping)
        if code == "autre" and (cells.others or mapping.free_other):
            _note_other(question, cells, line, column)
        return code
    if question.type == "multi":
        codes = _multi(question, cells, mapping)
        if "autre" in codes:
            _note_other(question, cells, line, "")
        return codes or None
    if not cells.texts:
        return None
    if question.type == "text":
        return _free_text(question, cells, line, cells.texts[0][0])
    column, text = _single_text(cells)
    return _scalar(question, text, column, context)


def _note_other(question: Question, cells: _Cells, line: _Line, column: str) -> None:
    known = {fold(o.label) for o in question.options} | {fold(c) for c in question.codes}
    texts = [(c, t) for c, t in cells.others] + [
        (c, t) for c, t in cells.texts if fold(t) not in known | _OTHER_CODES
    ]
    for where, text in texts:
        line.warnings.append(
            SurveyIssue(
                line.number,
                question.id,
                _("réponse libre « {value} » comptée comme « Autre »", value=text[:80]),
                where or column,
            )
        )


def _consent_date(text: str) -> datetime | None:
    text = text.strip()
    for pattern in (
        "%d/%m/%Y %H:%M:%S",
        "%d/%m/%Y %H:%M",
        "%d/%m/%Y",
        "%Y/%m/%d %H:%M:%S",
        "%d/%m/%Y - %H:%M",
    ):
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=UTC)
        except ValueError:
            continue
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _check_header(
    header: Sequence[str], mapping: SurveyMapping, questionnaire: Questionnaire, path: Path
) -> None:
    present = set(header)
    problems: list[str] = []
    missing = [c for c in mapping.columns if c not in present]
    extras = (mapping.submission_column, mapping.consent_date_column)
    missing.extend(c for c in extras if c is not None and c not in present)
    if missing:
        problems.append(
            _(
                "colonne(s) de la correspondance absente(s) du fichier : {missing} "
                "(colonnes lues : {found}) ; vérifiez le séparateur et l'export",
                missing=", ".join(missing[:_MAX_LISTED]),
                found=", ".join(h[:40] for h in header[:_MAX_LISTED]),
            )
        )
    mapped = {mapping.target(c)[0] for c in mapping.columns}
    unmapped = [q.id for q in questionnaire.questions if q.required and q.id not in mapped]
    if unmapped:
        problems.append(
            _("question(s) obligatoire(s) sans colonne : {ids}", ids=", ".join(unmapped))
        )
    if problems:
        raise SchemaError(
            _(
                "{path} : import refusé, rien n'a été enregistré : {problems}.",
                path=path,
                problems="; ".join(problems),
            )
        )


def read_survey_csv(
    path: Path,
    mapping: SurveyMapping,
    questionnaire: Questionnaire,
    communes: pd.DataFrame,
    *,
    consent_text: str | None = None,
    now: datetime | None = None,
    territory: Sequence[str] = (),
) -> SurveyImport:
    """Read and validate an export of answers (CSV or XLSX, see :func:`read_survey_table`).

    Parameters
    ----------
    path
        Export (CSV in UTF-8 or Windows-1252 with ``,`` or ``;``, or XLSX), one line
        per submission.
    mapping
        From :func:`load_mapping` or a proposal.
    questionnaire
        The questionnaire answered.
    communes
        Communes table (``code``, ``nom``, ``dep``) against which commune answers are
        resolved (name, ``Nom (dép.)`` or INSEE code).
    consent_text
        Text of the consent recorded with each answer (default: the label of the
        questionnaire's consent question).
    now
        Consent date used when the export gives none (default: now, UTC).
    territory
        Codes of the communes of the survey's territory: a bare name shared by several
        communes is read as the one that lies in it, when exactly one does.

    Returns
    -------
    SurveyImport
        Valid answers, rejected lines (line, question, column, reason) and warnings
        (optional answers dropped, texts cut, free answers counted as « Autre »).

    Raises
    ------
    SourceError, SchemaError
        When the whole file is unusable (missing, mixed encodings, no separator,
        columns of the mapping absent).
    """
    return read_survey_table(
        read_export(path),
        path,
        mapping,
        questionnaire,
        communes,
        consent_text=consent_text,
        now=now,
        territory=territory,
    )


def read_survey_table(
    table: ExportTable,
    path: Path,
    mapping: SurveyMapping,
    questionnaire: Questionnaire,
    communes: pd.DataFrame,
    *,
    consent_text: str | None = None,
    now: datetime | None = None,
    territory: Sequence[str] = (),
) -> SurveyImport:
    """Validate the rows of an export already read (see :func:`read_survey_csv`).

    ``territory``: the codes of the survey's territory, which tell homonyms apart
    (see :class:`CommuneIndex`).
    """
    header = table.header
    _check_header(header, mapping, questionnaire, path)
    index = {name: i for i, name in enumerate(header)}
    context = _Context(
        mapping,
        questionnaire,
        _Communes(communes, territory),
        now or datetime.now(UTC),
        path,
        consent_text,
        lenient=True,
    )
    responses: list[SurveyResponse] = []
    issues: list[SurveyIssue] = []
    warnings: list[SurveyIssue] = []
    seen: dict[str, int] = {}
    count = 0
    for number, cells in table.rows:
        if not any(c.strip() for c in cells):
            continue
        count += 1
        line = _Line(number, {}, [], [])
        if len(cells) != len(header):
            issues.append(
                SurveyIssue(
                    number,
                    "",
                    _(
                        "{n} cellules pour {m} colonnes (séparateur ou guillemets ?)",
                        n=len(cells),
                        m=len(header),
                    ),
                )
            )
            continue
        response = _read_line(cells, index, line, context)
        issues.extend(line.issues)
        if response is None:
            continue
        if response.fingerprint in seen:
            issues.append(
                SurveyIssue(
                    number,
                    "",
                    _(
                        "soumission en double : identique à la ligne {n}",
                        n=seen[response.fingerprint],
                    ),
                )
            )
            continue
        seen[response.fingerprint] = number
        warnings.extend(line.warnings)
        responses.append(response)
    return SurveyImport(
        tuple(responses), tuple(issues), tuple(warnings), table.encoding, table.separator, count
    )


@dataclass(frozen=True, slots=True)
class _Context:
    mapping: SurveyMapping
    questionnaire: Questionnaire
    communes: _Communes
    moment: datetime
    path: PurePath
    consent_text: str | None
    #: A faulty optional answer is dropped with a note (files) instead of refused (forms).
    lenient: bool = False


def _gather(
    cells: Sequence[str], index: Mapping[str, int], line: _Line, context: _Context
) -> dict[str, _Cells]:
    gathered: dict[str, _Cells] = {}
    questions = context.questionnaire
    for column in context.mapping.columns:
        value = cells[index[column]].strip()
        qid, code = context.mapping.target(column)
        entry = gathered.setdefault(qid, _Cells())
        if code is None:
            if value:
                entry.texts.append((column, value))
            continue
        folded = fold(value)
        question = questions.question(qid)
        option = next(o for o in question.options if o.code == code)
        if folded in _NO:
            continue
        if folded in _YES or folded in {fold(option.label), fold(option.code)}:
            entry.ticked.append((column, code))
        elif code == "autre":
            entry.others.append((column, value))
        else:
            _fail(
                question,
                column,
                value,
                _(
                    "« {value} » dans la colonne de l'option « {label} » (attendu Oui/Y/X ou vide)",
                    value=value[:80],
                    label=option.label,
                ),
                line,
                context,
            )
    return gathered


def _fail(
    question: Question, column: str, value: str, message: str, line: _Line, context: _Context
) -> None:
    """Record a faulty answer: a rejection, or a note when the question is optional."""
    if question.required or not context.lenient:
        line.issues.append(SurveyIssue(line.number, question.id, message, column))
        return
    line.warnings.append(
        SurveyIssue(
            line.number,
            question.id,
            _(
                "réponse facultative « {value} » ignorée : {reason} ; le reste de la ligne est "
                "enregistré",
                value=value[:80],
                reason=message,
            ),
            column,
        )
    )


def _read_line(
    cells: Sequence[str],
    index: Mapping[str, int],
    line: _Line,
    context: _Context,
) -> SurveyResponse | None:
    gathered = _gather(cells, index, line, context)
    for question in context.questionnaire.questions:
        entry = gathered.get(question.id, _Cells())
        try:
            answer = _answer(question, entry, line, context)
        except _Fault as fault:
            values = [t for c, t in [*entry.texts, *entry.others] if c in fault.columns]
            shown = " / ".join(dict.fromkeys(values))
            _fail(question, ", ".join(fault.columns), shown, fault.message, line, context)
            continue
        if answer is None or answer == ():
            if question.required:
                line.issues.append(
                    SurveyIssue(line.number, question.id, _("réponse obligatoire manquante"))
                )
            continue
        line.answers[question.id] = answer
    if line.issues:
        return None
    consented_at = context.moment
    if context.mapping.consent_date_column is not None:
        parsed = _consent_date(cells[index[context.mapping.consent_date_column]])
        if parsed is not None:
            consented_at = parsed
    submission = None
    if context.mapping.submission_column is not None:
        submission = cells[index[context.mapping.submission_column]].strip() or None
    consent = context.questionnaire.consent
    commune = line.answers.get("commune_residence")
    return SurveyResponse(
        commune=str(commune or ""),
        questionnaire_version=context.questionnaire.version,
        consent_text=context.consent_text or (consent.label if consent is not None else ""),
        consented_at=consented_at,
        answers=line.answers,
        fingerprint=fingerprint(context.questionnaire.version, line.answers, submission),
        source=context.path.name,
        line=line.number,
    )


def parse_submission(
    raw: Mapping[str, str],
    questionnaire: Questionnaire,
    communes: pd.DataFrame | CommuneIndex,
    *,
    submission: str | None = None,
    consent_text: str | None = None,
    now: datetime | None = None,
    source: str = "api",
) -> tuple[SurveyResponse | None, tuple[SurveyIssue, ...], tuple[SurveyIssue, ...]]:
    """Validate one submission given as ``{question id: answer text}`` (API, web form).

    The same checks as :func:`read_survey_csv`, except that a faulty optional answer
    is refused (the form shows it); answers may be option codes or labels, several
    answers of a multi question separated by ``;``.

    Returns
    -------
    tuple
        The response (``None`` when rejected), every problem found (one per faulty
        question, ``question`` = its id; unknown question ids first, with no
        question), the warnings; ``line`` is 0.
    """
    unknown = sorted(set(raw) - set(questionnaire.ids))
    ids = list(questionnaire.ids)
    mapping = SurveyMapping(version=questionnaire.version, columns={i: i for i in ids}, labels={})
    context = _Context(
        mapping,
        questionnaire,
        communes if isinstance(communes, _Communes) else _Communes(communes),
        now or datetime.now(UTC),
        PurePath(source),
        consent_text,
    )
    line = _Line(0, {}, [], [])
    cells = [str(raw.get(i, "")) for i in ids]
    index = {i: n for n, i in enumerate(ids)}
    response = _read_line(cells, index, line, context)
    issues = [replace(i, column="") for i in line.issues]
    if unknown:
        issue = SurveyIssue(0, "", _("question(s) inconnue(s) : {ids}", ids=", ".join(unknown)))
        return None, (issue, *issues), ()
    if response is not None and submission is not None:
        response = replace(
            response, fingerprint=fingerprint(questionnaire.version, response.answers, submission)
        )
    return response, tuple(issues), tuple(replace(w, column="") for w in line.warnings)
