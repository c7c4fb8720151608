"""Questionnaire answers exported by common survey tools (CSV) and their mapping.

Google Forms, LimeSurvey, Framaforms, KoboToolbox or a spreadsheet all export one
CSV line per submission, with their own column names and answer labels.  A YAML
*mapping* file says which column answers which question, and which label means which
option code::

    questionnaire: "1"            # version of the questionnaire answered
    soumission: "Horodateur"      # optional: submission id or timestamp (duplicates)
    date_consentement: "Horodateur"  # optional: date of consent (else: import time)
    separateur_multiple: ";"      # optional: between the answers of a multi question
    texte_consentement: "..."     # optional: consent text shown by the tool
    colonnes:                     # column of the export -> question id
      "Votre commune de résidence": commune_residence
      "Votre situation": statut
    reponses:                     # optional, per question: label of the export -> code
      statut:
        "Freelance": independant

Option codes and the questionnaire's own labels are always recognised (whatever the
case and accents).  The file may be UTF-8 or Windows-1252/Latin-1 and use ``,`` or
``;``; a file mixing both encodings is refused.  Every field is checked; a line with
a problem is rejected with its line number, question and reason, the others are
returned for storing.  Free text is kept as inert text (never interpreted as HTML),
stripped of control characters and cut at the question's ``max_length``.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import PurePath
from typing import TYPE_CHECKING

import yaml

from tierslieux.errors import SchemaError, SourceError
from tierslieux.i18n import N_
from tierslieux.i18n import gettext as _
from tierslieux.model.survey import (
    SurveyIssue,
    SurveyResponse,
    fingerprint,
)
from tierslieux.sources._files import require_file, sniff_separator

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

    import pandas as pd

    from tierslieux.model.survey import Answer, Question, Questionnaire

__all__ = [
    "SurveyImport",
    "SurveyMapping",
    "load_mapping",
    "parse_submission",
    "read_survey_csv",
]

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
#: A UTF-8 encoded accented letter (two bytes), used to spot files mixing encodings.
_UTF8_PAIR = re.compile(rb"[\xc2-\xdf][\x80-\xbf]")
_YES = frozenset({"oui", "yes", "true", "vrai", "1", "x", "o", "y", "ok", "d_accord"})
_DEP_SUFFIX = re.compile(r"^(.*?)\s*\((\w{2,3}|\w{5})\)\s*$")
_MAX_LISTED = 10


@dataclass(frozen=True, slots=True)
class SurveyMapping:
    """How the columns and labels of one export map onto the questionnaire."""

    version: str
    columns: dict[str, str]
    labels: dict[str, dict[str, str]]
    submission_column: str | None = None
    consent_date_column: str | None = None
    multi_separator: str = ";"
    consent_text: str | None = None


@dataclass(frozen=True, slots=True)
class SurveyImport:
    """Outcome of :func:`read_survey_csv`: valid answers, rejected lines, warnings."""

    responses: tuple[SurveyResponse, ...]
    issues: tuple[SurveyIssue, ...]
    warnings: tuple[SurveyIssue, ...]
    encoding: str
    separator: str
    lines: int


def fold(text: str) -> str:
    """Lower-case, strip accents, punctuation and extra spaces (for matching labels)."""
    decomposed = unicodedata.normalize("NFKD", text.strip().lower())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return "_".join(re.sub(r"[^\w]+", " ", plain).split())


def load_mapping(path: Path, questionnaire: Questionnaire) -> SurveyMapping:
    """Read and check a mapping YAML file against the questionnaire.

    Raises
    ------
    SourceError
        When the file is missing or empty.
    SchemaError
        Listing every problem: unknown question ids, unknown option codes, a
        questionnaire version other than ``questionnaire``'s.
    """
    require_file(path, N_("correspondance"))
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise SchemaError(
            _("{path} : YAML illisible ({error}).", path=path, error=error)
        ) from error
    if not isinstance(data, dict):
        raise SchemaError(_("{path} : un dictionnaire YAML est attendu.", path=path))
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
    columns = {str(k).strip(): str(v) for k, v in raw_columns.items() if v is not None}
    unknown = sorted({q for q in columns.values() if q not in questionnaire.ids})
    if unknown:
        problems.append(
            _(
                "question(s) inconnue(s) : {ids} (questions : {known})",
                ids=", ".join(unknown),
                known=", ".join(questionnaire.ids),
            )
        )
    labels: dict[str, dict[str, str]] = {}
    raw_labels = data.get("reponses") or {}
    if not isinstance(raw_labels, dict):
        problems.append(_("section « reponses » mal formée"))
        raw_labels = {}
    for qid, table in raw_labels.items():
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
        labels[str(qid)] = {fold(str(k)): str(v) for k, v in table.items()}
    if problems:
        raise SchemaError(
            _(
                "{path} : correspondance invalide : {problems}.",
                path=path,
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
    )


def _decode(path: Path) -> tuple[str, str]:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError as error:
        if _UTF8_PAIR.search(raw):
            line = raw[: error.start].count(b"\n") + 1
            raise SourceError(
                _(
                    "{path} : encodages mélangés (UTF-8 et Latin-1 ; premier octet illisible "
                    "ligne {line}). Réenregistrez l'export en UTF-8 ; rien n'a été importé.",
                    path=path,
                    line=line,
                )
            ) from error
        try:
            return raw.decode("cp1252"), "cp1252"
        except UnicodeDecodeError as latin:  # bytes undefined in Windows-1252 too
            line = raw[: latin.start].count(b"\n") + 1
            raise SourceError(
                _(
                    "{path} : encodages mélangés (UTF-8 et Latin-1 ; premier octet illisible "
                    "ligne {line}). Réenregistrez l'export en UTF-8 ; rien n'a été importé.",
                    path=path,
                    line=line,
                )
            ) from latin


class _Communes:
    """Commune names and codes of the communes table, for resolving answers."""

    def __init__(self, table: pd.DataFrame) -> None:
        self.codes = {str(c) for c in table["code"]}
        self.by_name: dict[str, list[str]] = {}
        self.dep = {str(c): str(d) for c, d in zip(table["code"], table["dep"], strict=True)}
        for code, name in zip(table["code"], table["nom"], strict=True):
            self.by_name.setdefault(fold(str(name)), []).append(str(code))

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
        if not found:
            return None, _(
                "« {value} » n'est pas une commune de la table des communes (nom ou code "
                "Insee attendu)",
                value=text[:80],
            )
        return None, _(
            "« {value} » désigne plusieurs communes ({codes}) : indiquez le code Insee ou "
            "« Nom (département) »",
            value=text[:80],
            codes=", ".join(sorted(found)),
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


def _option(question: Question, mapping: SurveyMapping, text: str) -> str | None:
    key = fold(text)
    custom = mapping.labels.get(question.id, {})
    if key in custom:
        return custom[key]
    for option in question.options:
        if key in {fold(option.code), fold(option.label)}:
            return option.code
    return None


def _unknown_option(question: Question, text: str) -> str:
    return _(
        "réponse « {value} » inconnue (attendu : {labels}) ; ajoutez-la à la section "
        "« reponses » de la correspondance",
        value=text[:80],
        labels=" / ".join(o.label for o in question.options),
    )


def _parse_value(  # noqa: C901, PLR0911, PLR0912
    question: Question,
    text: str,
    line: _Line,
    mapping: SurveyMapping,
    communes: _Communes,
) -> Answer | None:
    def reject(message: str) -> None:
        line.issues.append(SurveyIssue(line.number, question.id, message))

    if question.type == "choice":
        code = _option(question, mapping, text)
        if code is None:
            reject(_unknown_option(question, text))
        return code
    if question.type == "multi":
        codes: list[str] = []
        for part in (p.strip() for p in text.split(mapping.multi_separator)):
            if not part:
                continue
            code = _option(question, mapping, part)
            if code is None:
                reject(_unknown_option(question, part))
                return None
            if code not in codes:
                codes.append(code)
        return tuple(codes)
    if question.type == "number":
        value = _number(text)
        if value is None:
            reject(_("« {value} » n'est pas un nombre", value=text[:80]))
            return None
        low = question.minimum if question.minimum is not None else float("-inf")
        high = question.maximum if question.maximum is not None else float("inf")
        if not low <= value <= high:
            reject(
                _(
                    "valeur impossible : {value:g} {unit} (attendu entre {low:g} et {high:g})",
                    value=value,
                    unit=question.unit or "",
                    low=low,
                    high=high,
                )
            )
            return None
        return value
    if question.type == "commune":
        code, reason = communes.resolve(text)
        if reason is not None:
            reject(reason)
        return code
    if question.type == "consent":
        if fold(text) in _YES or fold(text).startswith(("j_accepte", "accepte", "oui")):
            return "oui"
        reject(_("consentement non donné (« {value} ») : réponse non enregistrée", value=text[:80]))
        return None
    # free text: inert, without control characters, limited
    cleaned = _CONTROL.sub("", text)
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
            )
        )
        cleaned = cleaned[: question.max_length]
    return cleaned


def _consent_date(text: str) -> datetime | None:
    text = text.strip()
    for pattern in ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y", "%Y/%m/%d %H:%M:%S"):
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
    mapped = set(mapping.columns.values())
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
) -> SurveyImport:
    """Read and validate an export of answers.

    Parameters
    ----------
    path
        CSV export (UTF-8 or Windows-1252, ``,`` or ``;``), one line per submission.
    mapping
        From :func:`load_mapping`.
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

    Returns
    -------
    SurveyImport
        Valid answers, rejected lines (line, question, reason) and warnings.

    Raises
    ------
    SourceError, SchemaError
        When the whole file is unusable (missing, mixed encodings, no separator,
        columns of the mapping absent).
    """
    require_file(path, N_("réponses"))
    text, encoding = _decode(path)
    first = text.split("\n", 1)[0]
    separator = sniff_separator(first, path=path, candidates=";,")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    try:
        header = [h.strip().lstrip("\ufeff") for h in next(reader)]
    except StopIteration as error:
        raise SourceError(_("Le fichier de réponses {path} est vide.", path=path)) from error
    except csv.Error as error:  # a header cell longer than the csv module's limit
        raise SchemaError(
            _("{path}, ligne {line} : CSV mal formé ({error}).", path=path, line=1, error=error)
        ) from error
    _check_header(header, mapping, questionnaire, path)
    index = {name: i for i, name in enumerate(header)}
    context = _Context(
        mapping, questionnaire, _Communes(communes), now or datetime.now(UTC), path, consent_text
    )
    responses: list[SurveyResponse] = []
    issues: list[SurveyIssue] = []
    warnings: list[SurveyIssue] = []
    seen: dict[str, int] = {}
    count = 0
    start = 2
    try:
        for cells in reader:
            number, start = start, reader.line_num + 1
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
    except csv.Error as error:
        raise SchemaError(
            _("{path}, ligne {line} : CSV mal formé ({error}).", path=path, line=start, error=error)
        ) from error
    return SurveyImport(
        tuple(responses), tuple(issues), tuple(warnings), encoding, separator, count
    )


@dataclass(frozen=True, slots=True)
class _Context:
    mapping: SurveyMapping
    questionnaire: Questionnaire
    communes: _Communes
    moment: datetime
    path: PurePath
    consent_text: str | None


def _read_line(
    cells: Sequence[str],
    index: Mapping[str, int],
    line: _Line,
    context: _Context,
) -> SurveyResponse | None:
    raw: dict[str, str] = {}
    for column, qid in context.mapping.columns.items():
        value = cells[index[column]].strip()
        if value:
            raw[qid] = value
    for question in context.questionnaire.questions:
        text = raw.get(question.id)
        if text is None:
            if question.required:
                line.issues.append(
                    SurveyIssue(line.number, question.id, _("réponse obligatoire manquante"))
                )
            continue
        answer = _parse_value(question, text, line, context.mapping, context.communes)
        if answer is not None and answer != ():
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

    The same checks as :func:`read_survey_csv`; answers may be option codes or labels,
    several answers of a multi question separated by ``;``.

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
    if unknown:
        issue = SurveyIssue(0, "", _("question(s) inconnue(s) : {ids}", ids=", ".join(unknown)))
        return None, (issue, *line.issues), ()
    if response is not None and submission is not None:
        response = replace(
            response, fingerprint=fingerprint(questionnaire.version, response.answers, submission)
        )
    return response, tuple(line.issues), tuple(line.warnings)
