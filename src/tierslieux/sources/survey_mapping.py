"""A mapping proposed from an export's header and answers, for review.

:func:`propose_mapping` recognises the tool (:func:`~.survey_formats.detect_tool`),
sets aside its metadata columns (``id``, ``submitdate``, ``Horodateur``, ``Heure de
début``, ``SID``…), matches every other column to a question of the questionnaire by
its label or id (case, accents and punctuation ignored; a column ``Question [Option]``
or ``Q[option]`` to one option of a multiple-choice), then checks the answers found
against the options.  :meth:`MappingProposal.yaml` writes the YAML mapping with a
French comment on each column: what was matched and how, or why not.

A proposal is *ready* (usable without review) when every column is either metadata
or matched to exactly one question, and every required question has a column.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tierslieux.i18n import gettext as _
from tierslieux.sources.survey_formats import TOOLS, ExportTable, detect_tool, fold
from tierslieux.sources.survey_import import (
    SurveyMapping,
    known_labels,
    mapping_from_dict,
    match_option,
    split_multi,
)

if TYPE_CHECKING:
    from tierslieux.model.survey import Question, Questionnaire

__all__ = ["ColumnMatch", "MappingProposal", "propose_mapping"]

#: Metadata columns of the tools (folded), never answers.
_METADATA = frozenset(
    {
        # LimeSurvey (codes, then French full-text headings)
        "id", "submitdate", "lastpage", "startlanguage", "seed", "startdate", "datestamp",
        "ipaddr", "refurl", "token", "id_de_la_reponse", "date_de_soumission",
        "derniere_page", "langue_de_depart", "tete_de_serie", "date_de_debut",
        "date_de_la_derniere_action", "adresse_ip", "url_de_provenance", "interviewtime",
        # Google Forms
        "horodateur", "timestamp", "horodatage", "marque_temporelle", "adresse_e_mail",
        "adresse_email", "email_address", "score", "note",
        # Microsoft Forms
        "heure_de_debut", "heure_de_fin", "adresse_de_messagerie", "nom", "start_time",
        "completion_time", "email", "name", "heure_de_la_derniere_modification",
        "last_modified_time",
        # Framaforms / Drupal Webform
        "serial", "sid", "time", "draft", "ip_address", "uid", "username",
        "numero_de_serie", "n_de_serie", "heure", "brouillon", "nom_d_utilisateur",
        "date", "submission_details", "details_de_la_soumission",
    }
)  # fmt: skip
#: Submission id and consent date columns, per tool (folded names, first present wins).
_SUBMISSION = ("id", "sid", "id_de_la_reponse", "horodateur", "timestamp", "serial")
_CONSENT_DATE = (
    "submitdate",
    "date_de_soumission",
    "heure_de_fin",
    "completion_time",
    "horodateur",
    "timestamp",
    "time",
    "heure",
)
_BRACKET = re.compile(r"^(?P<question>.+?)\s*\[(?P<option>[^\[\]]+)\]$")
_UNDERSCORE = re.compile(r"^(?P<question>[A-Za-z]\w*?)_(?P<option>SQ\d+|other|comment)$")
_CODE_PREFIX = re.compile(r"^(?P<code>[A-Za-z]\w*(\[\w+\])?)\.\s+(?P<text>.+)$")
_PARENS = re.compile(r"\([^()]*\)")
_MIN_PREFIX = 15
_VALUES_CHECKED = 2000
_OTHER = frozenset({"other", "autre", "autres"})
_SMALL_WORDS = frozenset(
    {"de", "du", "des", "d", "la", "le", "les", "l", "en", "a", "au", "aux", "votre", "vos"}
)


@dataclass(frozen=True, slots=True)
class ColumnMatch:
    """What the proposal made of one column of the export.

    ``kind`` is ``metadata``, ``question``, ``option``, ``other`` (free "other"
    answer), ``ignored`` (read, not imported, with the reason), ``unmatched`` or
    ``ambiguous``; ``target`` the question id or ``question.option``.
    """

    column: str
    kind: str
    target: str | None
    comment: str


@dataclass(frozen=True, slots=True)
class MappingProposal:
    """A mapping proposed for one export, with what was matched and what was not."""

    tool: str
    matches: tuple[ColumnMatch, ...]
    data: dict[str, object]
    #: Per question id, answers of the export matching no option (up to ten).
    unknown_values: dict[str, tuple[str, ...]] = field(default_factory=dict)
    missing_required: tuple[str, ...] = ()
    #: Questions having an « Autre » option.
    with_other: frozenset[str] = frozenset()

    @property
    def ready(self) -> bool:
        """True when the proposal can be used as is (nothing unmatched or ambiguous)."""
        return not self.missing_required and not self.doubtful

    @property
    def doubtful(self) -> tuple[ColumnMatch, ...]:
        """Columns unmatched or matching several questions."""
        return tuple(m for m in self.matches if m.kind in {"unmatched", "ambiguous"})

    def mapping(self, questionnaire: Questionnaire) -> SurveyMapping:
        """The proposal as a checked mapping."""
        return mapping_from_dict(self.data, questionnaire, where=_("correspondance proposée"))

    def yaml(self, source: str) -> str:
        """The mapping as YAML, with a French comment on each column."""
        q = json.dumps
        counts = {k: sum(m.kind == k for m in self.matches) for k in ("unmatched", "ambiguous")}
        lines = [
            _(
                "# Correspondance proposée par « tierslieux survey mapping » pour {source}.",
                source=source,
            ),
            _("# Outil reconnu : {tool}.", tool=_(TOOLS[self.tool])),
            _(
                "# {n} colonne(s) non reconnue(s), {a} ambiguë(s) : cherchez « À VÉRIFIER ».",
                n=counts["unmatched"],
                a=counts["ambiguous"],
            ),
            _(
                "# Relisez, corrigez si besoin, puis : tierslieux survey import EXPORT "
                "--mapping CE_FICHIER"
            ),
        ]
        if self.missing_required:
            lines.append(
                _(
                    "# À VÉRIFIER : question(s) obligatoire(s) sans colonne : {ids}.",
                    ids=", ".join(self.missing_required),
                )
            )
        keys = ("questionnaire", "outil", "soumission", "date_consentement")
        lines.extend(
            f"{key}: {q(self.data[key], ensure_ascii=False)}"
            for key in keys
            if self.data.get(key) is not None
        )
        lines.append(f"separateur_multiple: {q(self.data['separateur_multiple'])}")
        lines.append(
            _("# autre_libre : une réponse hors des options compte comme « Autre » (signalée)")
        )
        lines.append(f"autre_libre: {'true' if self.data.get('autre_libre') else 'false'}")
        lines.append("colonnes:")
        for match in self.matches:
            lines.extend(f"  # {part}" for part in match.comment.splitlines())
            target = "null" if match.target is None else q(match.target)
            lines.append(f"  {q(match.column, ensure_ascii=False)}: {target}")
        if self.unknown_values:
            lines.append("reponses:")
        for qid, values in self.unknown_values.items():
            if self.data.get("autre_libre") and qid in self.with_other:
                lines.append(
                    _(
                        "  # {id} : réponses hors des options, comptées comme « Autre » et "
                        "signalées ; pour en ranger une dans une option, décommentez et "
                        "indiquez son code",
                        id=qid,
                    )
                )
            else:
                lines.append(
                    _(
                        "  # À VÉRIFIER : {id} : réponses de l'export sans option "
                        "correspondante ; décommentez et indiquez le code de chacune",
                        id=qid,
                    )
                )
            lines.append(f"  # {qid}:")
            lines.extend(f"  #   {q(v, ensure_ascii=False)}: CODE" for v in values)
        return "\n".join(lines) + "\n"


def _compact(text: str) -> str:
    return fold(text).replace("_", "")


def _words(text: str) -> str:
    """Compact key without small words: « Temps de trajet (minutes) » -> ``tempstrajet``."""
    words = fold(_PARENS.sub(" ", text)).split("_")
    return "".join(w for w in words if w not in _SMALL_WORDS)


def _label_keys(text: str) -> set[str]:
    """Keys of a label: folded, without parenthesised parts, compact."""
    keys = (fold(text), fold(_PARENS.sub(" ", text)), _compact(text), _words(text))
    return {k for k in keys if k}


def _find_question(
    text: str, questionnaire: Questionnaire, *, partial: bool = True
) -> tuple[list[Question], str]:
    """Questions whose label or id matches ``text``, and how (best level only)."""
    candidates = [text]
    prefixed = _CODE_PREFIX.match(text)
    if prefixed:
        candidates = [prefixed.group("code"), prefixed.group("text")]
    keys: set[str] = set()
    for candidate in candidates:
        keys |= _label_keys(candidate)
    exact = [
        q
        for q in questionnaire.questions
        if keys & (_label_keys(q.label) | {_compact(q.id), fold(q.id)})
    ]
    if exact or not partial:
        return exact, _("libellé ou code identique")
    folded = fold(candidates[-1])
    starts = [
        q
        for q in questionnaire.questions
        if min(len(folded), len(fold(q.label))) >= _MIN_PREFIX
        and (fold(q.label).startswith(folded) or folded.startswith(fold(q.label)))
    ]
    return starts, _("début du libellé identique")


def _find_option(question: Question, text: str) -> str | None:
    keys = _label_keys(text)
    for option in question.options:
        if keys & (_label_keys(option.label) | {_compact(option.code), fold(option.code)}):
            return option.code
    return None


def _named(question: Question) -> str:
    return f"{question.id} (« {question.label[:70]} »)"


def _bracket_match(  # noqa: PLR0911  (one return per kind of column)
    column: str, questionnaire: Questionnaire
) -> ColumnMatch | None:
    parts = _BRACKET.match(column) or _UNDERSCORE.match(column)
    if parts is None:
        return None
    found, how = _find_question(parts.group("question"), questionnaire)
    if len(found) != 1:
        return None
    question, option = found[0], parts.group("option").strip()
    folded = fold(option)
    if "comment" in folded or folded.startswith("commentaire"):
        return ColumnMatch(
            column, "ignored", None, _("commentaire de {q} : non importé", q=_named(question))
        )
    code = _find_option(question, option)
    if code is None and folded in _OTHER:
        if "autre" in question.codes:
            return ColumnMatch(
                column,
                "other",
                f"{question.id}.autre",
                _(
                    "réponse libre « Autre » de {q} ({how}) : comptée comme « Autre », le texte "
                    "est signalé",
                    q=_named(question),
                    how=how,
                ),
            )
        return ColumnMatch(
            column,
            "ignored",
            None,
            _(
                "réponse libre « Autre » de {q} : la question n'a pas d'option « Autre », "
                "non importée",
                q=_named(question),
            ),
        )
    if code is None and len(_find_question(option, questionnaire)[0]) == 1:
        return None  # a Webform question after a multiple one: "[label]" is the question
    if code is None:
        return ColumnMatch(
            column,
            "unmatched",
            None,
            _(
                "À VÉRIFIER : question {q} reconnue, mais l'option « {option} » ne correspond "
                "à aucune de ses options ({codes}) ; écrivez {id}.CODE",
                q=_named(question),
                option=option,
                codes=", ".join(question.codes) or "—",
                id=question.id,
            ),
        )
    if question.type not in {"multi", "choice"}:
        return None
    label = next(o.label for o in question.options if o.code == code)
    return ColumnMatch(
        column,
        "option",
        f"{question.id}.{code}",
        _(
            "option « {label} » de {q} ({how}), cochée si Oui/Y/X",
            label=label[:60],
            q=_named(question),
            how=how,
        ),
    )


def _by_values(
    values: list[str], questionnaire: Questionnaire, mapping: SurveyMapping
) -> list[Question]:
    """Choice or multi questions whose options recognise every value of a column."""
    if not values:
        return []
    found = []
    for question in questionnaire.questions:
        if question.type == "choice" and all(match_option(question, mapping, v) for v in values):
            found.append(question)
        elif question.type == "multi":
            labels = known_labels(question, mapping)
            if all(not split_multi(v, labels, ";")[1] for v in values):
                found.append(question)
    return found


def _values(table: ExportTable, column: int) -> list[str]:
    seen: dict[str, None] = {}
    for _line, cells in table.rows[:_VALUES_CHECKED]:
        if column < len(cells) and cells[column].strip():
            seen[cells[column].strip()] = None
    return list(seen)


def _plain_match(
    column: str, values: list[str], questionnaire: Questionnaire, empty: SurveyMapping
) -> ColumnMatch:
    parts = _BRACKET.match(column)
    found, how = _find_question(column, questionnaire, partial=parts is None)
    if not found and parts is not None:  # a Webform question after a multiple one
        found, how = _find_question(parts.group("option"), questionnaire)
    if len(found) > 1:
        return ColumnMatch(
            column,
            "ambiguous",
            None,
            _(
                "À VÉRIFIER : correspond à plusieurs questions ({ids}) ; gardez la bonne",
                ids=", ".join(q.id for q in found),
            ),
        )
    if not found:
        found = _by_values(values, questionnaire, empty)
        how = _("reconnue d'après ses réponses")
        if len(found) != 1:
            reason = (
                _(
                    "ses réponses conviennent à plusieurs questions ({ids})",
                    ids=", ".join(q.id for q in found),
                )
                if found
                else _("aucun libellé ni code de question ne correspond")
            )
            return ColumnMatch(
                column,
                "unmatched",
                None,
                _(
                    "À VÉRIFIER : colonne non reconnue ({reason}) ; indiquez l'identifiant de "
                    "la question ou laissez null pour ne pas l'importer",
                    reason=reason,
                ),
            )
    question = found[0]
    return ColumnMatch(column, "question", question.id, f"{_named(question)} : {how}")


def _unknown_values(
    question: Question, values: list[str], mapping: SurveyMapping
) -> tuple[str, ...]:
    if question.type == "choice":
        return tuple(v for v in values if match_option(question, mapping, v) is None)[:10]
    if question.type == "multi":
        labels = known_labels(question, mapping)
        unknown: dict[str, None] = {}
        for value in values:
            unknown.update(dict.fromkeys(split_multi(value, labels, ";")[1]))
        return tuple(unknown)[:10]
    return ()


def _resolve_duplicates(
    matches: list[ColumnMatch], questionnaire: Questionnaire
) -> list[ColumnMatch]:
    """Two plain columns on one single-answer question: both ambiguous."""
    by_question: dict[str, list[int]] = {}
    for i, match in enumerate(matches):
        if match.kind == "question" and match.target is not None:
            by_question.setdefault(match.target, []).append(i)
    for qid, indexes in by_question.items():
        if len(indexes) < 2 or questionnaire.question(qid).type in {"multi", "text"}:
            continue
        names = ", ".join(f"« {matches[i].column} »" for i in indexes)
        for i in indexes:
            matches[i] = ColumnMatch(
                matches[i].column,
                "ambiguous",
                None,
                _(
                    "À VÉRIFIER : les colonnes {names} correspondent toutes à {id} ; gardez "
                    "la bonne (les autres : null)",
                    names=names,
                    id=qid,
                ),
            )
    return matches


def propose_mapping(table: ExportTable, questionnaire: Questionnaire) -> MappingProposal:
    """Propose a mapping of ``table``'s columns onto ``questionnaire``."""
    tool = detect_tool(table)
    empty = SurveyMapping(version=questionnaire.version, columns={}, labels={})
    matches: list[ColumnMatch] = []
    for index, column in enumerate(table.header):
        if fold(column) in _METADATA or not column.strip():
            matches.append(ColumnMatch(column, "metadata", None, _("métadonnée de l'outil")))
            continue
        match = _bracket_match(column, questionnaire)
        if match is None:
            match = _plain_match(column, _values(table, index), questionnaire, empty)
        matches.append(match)
    matches = _resolve_duplicates(matches, questionnaire)
    columns = {m.column: m.target for m in matches}
    folded = {fold(c): c for c in table.header}
    mapped = {m.target.partition(".")[0] for m in matches if m.target is not None}
    unknown: dict[str, tuple[str, ...]] = {}
    for index, match in enumerate(matches):
        if match.kind == "question" and match.target is not None:
            values = _unknown_values(
                questionnaire.question(match.target), _values(table, index), empty
            )
            if values:
                unknown[match.target] = values
    data: dict[str, object] = {
        "questionnaire": questionnaire.version,
        "outil": tool,
        "soumission": next((folded[k] for k in _SUBMISSION if k in folded), None),
        "date_consentement": next((folded[k] for k in _CONSENT_DATE if k in folded), None),
        "separateur_multiple": ", " if tool == "google_forms" else ";",
        "autre_libre": tool in {"google_forms", "microsoft_forms"},
        "colonnes": columns,
    }
    missing = tuple(q.id for q in questionnaire.questions if q.required and q.id not in mapped)
    others = frozenset(q.id for q in questionnaire.questions if "autre" in q.codes)
    return MappingProposal(tool, tuple(matches), data, unknown, missing, others)
