"""Use cases of the questionnaire of potential users (``tierslieux survey``).

Answers live in the operational store of the contacts (same database, table
``survey_respondents``; see :mod:`tierslieux.pipeline.contacts` for where it is).
Respondents are pseudonymous: a random id, their commune and their answers, with
the consent text and date; nothing else about them is kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from tierslieux.analysis.survey import (
    CRITERIA,
    GROUP_CANDIDATE,
    GROUP_LEAD,
    SMALL_SAMPLE,
    answer_counts,
    candidate_groups,
    commune_counts,
    far_from_sites,
    fit_scores,
    free_texts,
    question_summary,
    respondent_themes,
    theme_label,
    typology,
)
from tierslieux.analysis.territory import select_communes
from tierslieux.analysis.traveltime import StraightLineEngine, TableEngine
from tierslieux.errors import Message, Problem, Problems, SchemaError, StoreError
from tierslieux.files import atomic_write_text, spreadsheet_safe, write_spreadsheet_csv
from tierslieux.i18n import gettext as _
from tierslieux.model.structures import DEFAULT_MIN_MEMBERS
from tierslieux.model.survey import (
    Questionnaire,
    Respondent,
    SurveyIssue,
    SurveyResponse,
    load_questionnaire,
)
from tierslieux.model.territory import parse_territory
from tierslieux.pipeline.contacts import contact_store
from tierslieux.pipeline.inputs import (
    InputFiles,
    LoadedInputs,
    communes_of,
    listed_communes,
    territory_name,
)
from tierslieux.pipeline.readers import read_sites
from tierslieux.privacy import mask_contact_details
from tierslieux.sources.survey_formats import TOOLS, read_export
from tierslieux.sources.survey_import import (
    CommuneIndex,
    load_mapping,
    parse_submission,
    read_survey_table,
)
from tierslieux.sources.survey_mapping import propose_mapping
from tierslieux.sources.traveltimes import load_travel_times

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping, Sequence

    from tierslieux.config import Settings
    from tierslieux.model.survey import Answer
    from tierslieux.model.traveltime import TravelTimeEngine
    from tierslieux.sources.communes import Communes
    from tierslieux.sources.survey_formats import ExportTable
    from tierslieux.sources.survey_import import SurveyMapping

__all__ = [
    "GROUP_CANDIDATE",
    "GROUP_LEAD",
    "MIN_GROUP_SIZE",
    "SCORE_CRITERIA",
    "SMALL_SAMPLE",
    "ExportSummary",
    "ImportSummary",
    "MappingSummary",
    "SurveyAnalysis",
    "SurveyAnalysisRequest",
    "SurveyContext",
    "add_answers",
    "analyse_survey",
    "consent_record",
    "export_answers",
    "fictional_note",
    "forget_respondent",
    "import_answers",
    "propose_survey_mapping",
    "purge_expired",
    "spreadsheet_safe",
    "submit_answers",
    "territory_communes",
    "theme_label",
]

_MAX_LISTED = 20


def consent_record(settings: Settings, shown: str) -> str:
    """Return the consent text stored with an answer: what was shown, purpose, retention."""
    return _(
        "{shown} — Finalité : {purpose} Conservation : {days} jours après le consentement.",
        shown=shown.strip(),
        purpose=settings.purpose(),
        days=settings.survey_retention_days,
    )


def purge_expired(settings: Settings, *, now: datetime | None = None) -> int:
    """Delete the respondents whose retention period is over; return how many.

    The period is ``settings.survey_retention_days`` days after the consent date.  Each
    deleted respondent leaves a tombstone: a re-import of the same tool export skips
    them (:attr:`ImportSummary.expired`).
    """
    limit = (now or datetime.now(UTC)) - timedelta(days=settings.survey_retention_days)
    with contact_store(settings) as store:
        return store.responses.purge_responses(limit)


def _communes(settings: Settings, paths: Sequence[Path], *, demo: bool) -> Communes:
    return communes_of(settings, InputFiles(communes=tuple(paths), demo=demo))


@dataclass(frozen=True)
class SurveyContext:
    """What validating and storing answers needs, loaded once (a web process keeps it).

    Build it with :meth:`load` (files, ``--data``, demo) or :meth:`from_inputs` (loaded
    inputs, a workspace); then :meth:`validate` and :meth:`submit` read no file.
    """

    settings: Settings
    questionnaire: Questionnaire
    communes: Communes
    demo: bool = False
    #: Codes of the communes of the survey's territory (a campaign's project): a name
    #: shared by several communes is read as the one of them in it, when only one is.
    territory: tuple[str, ...] = ()
    #: Names and codes of the communes, indexed once for every answer.
    index: CommuneIndex = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "index", CommuneIndex(self.communes.table, self.territory))

    @classmethod
    def load(
        cls, settings: Settings, *, communes: Sequence[Path] = (), demo: bool = False
    ) -> SurveyContext:
        """Read the questionnaire and the communes (the demo's with ``demo``)."""
        return cls(settings, load_questionnaire(), _communes(settings, communes, demo=demo), demo)

    @classmethod
    def from_inputs(
        cls,
        settings: Settings,
        inputs: LoadedInputs,
        *,
        questionnaire: Questionnaire | None = None,
        territory: Sequence[str] = (),
    ) -> SurveyContext:
        """The context of loaded inputs (fictional inputs use the demonstration store).

        ``questionnaire``: the one to check answers against (default: the packaged one,
        French; a form gives it in the language of its page); ``territory``: the codes
        of the survey's territory (see :attr:`territory`).
        """
        chosen = questionnaire if questionnaire is not None else load_questionnaire()
        return cls(settings, chosen, inputs.communes, inputs.fictional, tuple(territory))

    def validate(
        self,
        answers: Mapping[str, str],
        *,
        submission: str | None = None,
        consent_text: str | None = None,
    ) -> SurveyResponse:
        """Check one submission and return the response to store.

        ``consent_text`` is the notice shown to the respondent (a campaign's: its
        controller, purpose and retention), stored with the answer; by default the
        questionnaire's consent label with the settings' purpose and retention.

        Raises
        ------
        SchemaError
            Listing every invalid answer.
        """
        consent = self.questionnaire.consent
        response, issues, _warnings = parse_submission(
            answers,
            self.questionnaire,
            self.index,
            submission=submission,
            consent_text=consent_text
            or consent_record(self.settings, consent.label if consent is not None else ""),
        )
        if response is None:
            # One problem per faulty question (``field`` = its id), so that a form marks each.
            raise SchemaError(
                *(Problem(i.message, field=i.question or None, translated=True) for i in issues),
                summary=Message("Réponses refusées, rien n'a été enregistré : {problems}."),
            )
        return response

    def submit(self, answers: Mapping[str, str], *, submission: str | None = None) -> str:
        """Validate and store one submission; return the new respondent's id.

        Raises
        ------
        SchemaError
            Listing every invalid answer; nothing is stored.
        InvalidValueError
            When the same submission was already stored.
        """
        response = self.validate(answers, submission=submission)
        return add_answers(self.settings, [response], demo=self.demo)[0]


@dataclass(frozen=True, slots=True)
class ImportSummary:
    """Outcome of :func:`import_answers`.

    ``rejected`` lists every line not stored (line, question, reason), including the
    submissions already in the store and those of respondents erased at their request;
    ``erased`` counts the latter (a tombstone recognised them), ``expired`` those
    deleted at the end of the retention period (``survey purge``); ``warnings`` the
    lines stored with a change (long text cut).
    """

    path: Path
    lines: int
    added: int
    ids: tuple[str, ...]
    rejected: tuple[SurveyIssue, ...]
    warnings: tuple[SurveyIssue, ...]
    encoding: str
    separator: str
    erased: int = 0
    expired: int = 0
    #: Without ``--mapping``: the tool recognised and what the automatic mapping did.
    automatic: MappingSummary | None = None


@dataclass(frozen=True, slots=True)
class MappingSummary:
    """A mapping proposed for an export (:func:`propose_survey_mapping`).

    ``doubtful`` lists ``(column, reason)`` for the columns unmatched or ambiguous;
    ``ignored`` the columns read but not imported (metadata, comments).
    """

    path: Path
    tool: str
    text: str
    ready: bool
    matched: int
    ignored: tuple[str, ...]
    doubtful: tuple[tuple[str, str], ...]
    missing_required: tuple[str, ...]
    out: Path | None = None

    @property
    def tool_name(self) -> str:
        """The tool's name, for people."""
        return _(TOOLS[self.tool])


def propose_survey_mapping(path: Path, *, out: Path | None = None) -> MappingSummary:
    """Propose a mapping for an export from its header and answers, for review.

    Parameters
    ----------
    path
        Export of LimeSurvey, Google Forms, Microsoft Forms, Framaforms or a generic
        file (CSV or XLSX).
    out
        YAML file written (atomically) with the mapping and a French comment on each
        column; none: only returned (``text``).

    Raises
    ------
    SourceError, SchemaError
        When the export is unreadable.
    """
    return _proposal(read_export(Path(path)), Path(path), out=out)[0]


def _proposal(
    table: ExportTable, path: Path, *, out: Path | None = None
) -> tuple[MappingSummary, SurveyMapping | None]:
    questionnaire = load_questionnaire()
    proposal = propose_mapping(table, questionnaire)
    text = proposal.yaml(path.name)
    if out is not None:
        atomic_write_text(Path(out), text)
    summary = MappingSummary(
        path=path,
        tool=proposal.tool,
        text=text,
        ready=proposal.ready,
        matched=sum(m.target is not None for m in proposal.matches),
        ignored=tuple(m.column for m in proposal.matches if m.kind in {"metadata", "ignored"}),
        doubtful=tuple(
            (m.column, m.comment.removeprefix(_("À VÉRIFIER : "))) for m in proposal.doubtful
        ),
        missing_required=proposal.missing_required,
        out=None if out is None else Path(out),
    )
    return summary, proposal.mapping(questionnaire) if proposal.ready else None


def _automatic(table: ExportTable, path: Path) -> tuple[MappingSummary, SurveyMapping]:
    summary, mapping = _proposal(table, path)
    if mapping is not None:
        return summary, mapping
    problems = [
        Problem("colonne « {column} » : {reason}", {"column": c, "reason": r})
        for c, r in summary.doubtful[:_MAX_LISTED]
    ]
    if summary.missing_required:
        problems.append(
            Problem(
                "question(s) obligatoire(s) sans colonne : {ids}",
                {"ids": ", ".join(summary.missing_required)},
            )
        )
    raise SchemaError(
        *problems,
        summary=Message(
            "{path} ({tool}) : correspondance automatique incertaine, rien n'a été importé. "
            "Faites-la écrire par « tierslieux survey mapping {path} », relisez-la, puis "
            "importez avec {mapping} : {problems}",
            {"path": path, "tool": summary.tool_name},
        ),
    )


def import_answers(
    settings: Settings,
    path: Path,
    mapping: Path | None = None,
    *,
    communes: Sequence[Path] = (),
    demo: bool = False,
    all_or_nothing: bool = False,
    inputs: LoadedInputs | None = None,
    territory: Sequence[str] = (),
) -> ImportSummary:
    """Import a CSV export of answers into the store (valid lines, one transaction).

    Parameters
    ----------
    settings
        Run settings (database URL, data folder...).
    path, mapping
        The export (CSV or XLSX) and its YAML mapping (see
        :mod:`tierslieux.sources.survey_import`); without a mapping, the one proposed
        from the export's header (:func:`propose_survey_mapping`) when it is certain.
    communes
        Files of communes used to recognise commune answers (default: ``--data``
        folder or download); ``demo`` uses the fictional demo communes and, when no
        ``database_url`` is set, the demonstration store (never the real one).
    all_or_nothing
        Store nothing when any line is rejected.
    inputs
        Loaded inputs (a workspace, a web project) whose communes recognise commune
        answers instead of ``communes``; fictional inputs use the demonstration store.
    territory
        Codes of the communes of the survey's territory (a project's): a name shared
        by several communes is read as the one that lies in it, when only one does.

    Raises
    ------
    SourceError, SchemaError
        When the file or the mapping is unusable, the automatic mapping is uncertain
        (naming the columns), or (``all_or_nothing``) a line is rejected: nothing is
        stored.
    """
    questionnaire = load_questionnaire()
    automatic = None
    export = read_export(Path(path))
    if mapping is None:
        automatic, parsed_mapping = _automatic(export, Path(path))
    else:
        parsed_mapping = load_mapping(Path(mapping), questionnaire)
    if inputs is not None:
        table, demo = inputs.communes.table, inputs.fictional
    else:
        table = _communes(settings, communes, demo=demo).table
    consent = questionnaire.consent
    shown = parsed_mapping.consent_text or (consent.label if consent is not None else "")
    parsed = read_survey_table(
        export,
        Path(path),
        parsed_mapping,
        questionnaire,
        table,
        consent_text=consent_record(settings, shown),
        territory=territory,
    )
    if all_or_nothing and parsed.issues:
        listed = [
            _(
                "ligne {line} ({question}) : {message}",
                line=i.line,
                question=i.question or "—",
                message=i.message,
            )
            for i in parsed.issues[:_MAX_LISTED]
        ]
        # Every problem (line, question id as field), under the one message shown.
        raise SchemaError(
            *(
                Problem(i.message, field=i.question or None, line=i.line, translated=True)
                for i in parsed.issues
            ),
            summary=Message(
                "Import de {path} refusé, rien n'a été enregistré ({n} ligne(s) rejetée(s)) :\n"
                "{details}",
                {
                    "path": path,
                    "n": len({i.line for i in parsed.issues}),
                    "details": "\n".join(listed),
                },
            ),
        )
    with contact_store(settings, demo=demo) as store:
        report = store.responses.add_responses(parsed.responses)
    rejected = [
        *parsed.issues,
        *(SurveyIssue(d.line, "", d.message) for d in report.duplicates),
        *(SurveyIssue(d.line, "", d.message) for d in report.erased),
        *(SurveyIssue(d.line, "", d.message) for d in report.expired),
    ]
    return ImportSummary(
        path=Path(path),
        lines=parsed.lines,
        added=report.added,
        ids=report.ids,
        rejected=tuple(sorted(rejected, key=lambda i: i.line)),
        # Notes of a line already stored (or erased) are not news.
        warnings=tuple(
            w
            for w in parsed.warnings
            if w.line not in {d.line for d in (*report.duplicates, *report.erased, *report.expired)}
        ),
        encoding=parsed.encoding,
        separator=parsed.separator,
        erased=len(report.erased),
        expired=len(report.expired),
        automatic=automatic,
    )


def add_answers(
    settings: Settings, responses: Sequence[SurveyResponse], *, demo: bool = False
) -> tuple[str, ...]:
    """Store answers validated by the caller (Python API); return the new ids.

    ``demo``: fictional answers, stored in the demonstration store when no
    ``database_url`` is set (see :func:`~tierslieux.pipeline.contacts.contact_store`).

    Raises
    ------
    InvalidValueError
        When a response was already stored (same fingerprint): nothing is stored.
    """
    with contact_store(settings, demo=demo) as store:
        report = store.responses.add_responses(responses, skip_duplicates=False)
    return report.ids


def submit_answers(
    settings: Settings,
    answers: Mapping[str, str],
    *,
    communes: Sequence[Path] = (),
    demo: bool = False,
    submission: str | None = None,
) -> str:
    """Validate and store one submission (Python API, future web form).

    Parameters
    ----------
    answers
        ``{question id: answer}``; options by code or label, several answers of a
        multi question separated by ``;``, communes by name, ``Nom (dép.)`` or code.
    submission
        Id of the submission (form token...), so that a repeated post is a duplicate.

    Returns
    -------
    str
        The pseudonymous id of the new respondent.

    Raises
    ------
    SchemaError
        Listing every invalid answer; nothing is stored.  ``error.problems`` holds one
        :class:`~tierslieux.errors.Problem` per faulty question, ``field`` = its id.
    InvalidValueError
        When the same submission was already stored.
    """
    context = SurveyContext.load(settings, communes=communes, demo=demo)
    return context.submit(answers, submission=submission)


def forget_respondent(settings: Settings, respondent_id: str) -> int:
    """Delete a respondent and all their answers (RGPD right to erasure).

    Raises
    ------
    UnknownPersonError
        When no respondent has this id.
    """
    with contact_store(settings) as store:
        return store.responses.forget_respondent(respondent_id)


def _cell(value: Answer | None, *, mask: bool = False) -> object:
    # Texts are guarded against formulas by write_spreadsheet_csv; numbers stay numbers.
    if value is None:
        return ""
    if isinstance(value, tuple):
        return ";".join(value)
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, str) and mask:
        return mask_contact_details(value)
    return value


@dataclass(frozen=True, slots=True)
class ExportSummary:
    """Outcome of :func:`export_answers`."""

    path: Path
    respondents: int
    identifiers: bool


def export_answers(
    settings: Settings,
    out: Path,
    *,
    identifiers: bool = False,
    demo: bool = False,
    communes: Collection[str] | None = None,
    campaign: int | None = None,
) -> ExportSummary:
    """Write every stored answer to a CSV file (UTF-8, ``;``).

    By default the respondents' stored ids are replaced by sequence numbers
    (``R0001``...) and the consent time by its date: the file can be shared without
    letting anyone find a respondent in the store.  ``identifiers=True`` keeps the ids
    (needed to answer an erasure request).  In the pseudonymised file, e-mail
    addresses and phone numbers in free texts are masked
    (:func:`tierslieux.privacy.mask_contact_details`).  Free texts that a spreadsheet
    would run as formulas are prefixed with ``'``.

    ``communes`` keeps only the respondents living in those communes (a web project's
    territory); ``demo`` reads the demonstration store (fictional answers);
    ``campaign`` keeps only the answers of that collection campaign, and adds the
    column ``canal`` (``en_ligne`` or ``papier``) after the consent date.

    Raises
    ------
    StoreError
        When the file cannot be written (nothing is left half-written).
    """
    questionnaire = load_questionnaire()
    with contact_store(settings, demo=demo) as store:
        stored = store.responses.list_responses()
    if communes is not None:
        kept = set(communes)
        stored = [row for row in stored if row.commune in kept]
    if campaign is not None:
        stored = [row for row in stored if row.campaign_id == campaign]
    ids = [q.id for q in questionnaire.questions]
    channel = ["canal"] if campaign is not None else []
    header = ["repondant", "commune", "version_questionnaire", "date_consentement", *channel]
    header += ids
    out = Path(out)
    rows = (
        [
            row.id if identifiers else f"R{number:04d}",
            row.commune,
            row.questionnaire_version,
            row.consented_at.isoformat() if identifiers else row.consented_at.date().isoformat(),
            *([row.channel] if channel else []),
            *(_cell(row.answers.get(q), mask=not identifiers) for q in ids),
        ]
        for number, row in enumerate(stored, start=1)
    )
    write_spreadsheet_csv(out, header, rows, private=True, error_type=StoreError)
    return ExportSummary(path=out, respondents=len(stored), identifiers=identifiers)


#: Default smallest questionnaire group shown as a candidate base community; smaller
#: groups are leads (« pistes »).  The study gives no size: « Tous les tiers-lieux
#: actuels ont été créés par une ou quelques personnes [...] en lien avec d'autres
#: groupes de professionnels » (Coop-connect pre-study, « Une communauté de base »).
#: tierslieux reads « quelques » as at least three, more than a pair, and uses the
#: same figure as ``tierslieux sites`` and ``communities`` for the members a group
#: needs in a catchment (:data:`~tierslieux.model.structures.DEFAULT_MIN_MEMBERS`),
#: so that a group called a candidate here also counts as a base community there.
MIN_GROUP_SIZE = DEFAULT_MIN_MEMBERS


@dataclass(frozen=True)
class SurveyAnalysisRequest:
    """What ``tierslieux survey analyse`` was asked.

    ``min_members`` is the smallest group listed (2: a pair is a lead);
    ``min_group_size`` the smallest shown as a candidate base community
    (:data:`MIN_GROUP_SIZE`).
    """

    territory: str = ""
    communes: tuple[Path, ...] = ()
    travel_times: Path | None = None
    minutes: float | None = None
    min_members: int = 2
    demo: bool = False
    sites: Path | None = None
    min_group_size: int = MIN_GROUP_SIZE
    #: Only the answers given through this collection campaign (its page's results).
    campaign: int | None = None
    #: The territory's name for people when the files name it only by its code
    #: (« EPCI 200067742 »): a project's official name.
    territory_name: str = ""


@dataclass(frozen=True)
class SurveyAnalysis:
    """Result of the analysis of the stored answers on a territory.

    ``respondents`` has no direct identifier: a sequence number, the commune, the
    fit score and its parts, the themes; ``typology`` compares shares with the
    study's coworker profile; ``groups`` lists the groups, candidate base communities
    (``statut`` = :data:`GROUP_CANDIDATE`, at least ``min_group_size`` members) and
    leads (:data:`GROUP_LEAD`).  ``questions`` has one row per question (respondents
    who answered it, median of numbers), ``answers`` the count and share of every
    answer (:func:`~tierslieux.analysis.survey.answer_counts`), ``comments`` the free
    texts with contact details masked; ``communes`` the territory's communes with
    their respondents and group members (``nom``, ``latitude``, ``longitude`` too)
    and ``geometries`` their outlines (GeoJSON, WGS84), for the maps.
    """

    territory_label: str
    questionnaire: Questionnaire
    respondents: pd.DataFrame
    typology: pd.DataFrame
    groups: pd.DataFrame
    outside: int
    minutes: float
    engine: str
    fictional: bool
    notes: tuple[str, ...] = field(default_factory=tuple)
    questions: pd.DataFrame = field(default_factory=pd.DataFrame)
    answers: pd.DataFrame = field(default_factory=pd.DataFrame)
    comments: pd.DataFrame = field(default_factory=pd.DataFrame)
    communes: pd.DataFrame = field(default_factory=pd.DataFrame)
    geometries: dict[str, dict[str, Any]] = field(default_factory=dict)
    min_group_size: int = MIN_GROUP_SIZE


def _respondent_engine(settings: Settings, travel_times: Path | None) -> TravelTimeEngine:
    del settings  # OSRM is not used for respondents: a few communes, straight line is enough
    if travel_times is not None:
        frame, _provenance = load_travel_times(travel_times)
        return TableEngine(frame)
    return StraightLineEngine()


def _typology_with_sites(
    respondents: Sequence[Respondent],
    points: pd.DataFrame,
    engine: TravelTimeEngine,
    sites: Sequence[str] | None,
    minutes: float,
) -> pd.DataFrame:
    frame = typology(respondents).assign(
        reference_texte="", comparaison=_("quantitative"), remarque=""
    )
    row = far_from_sites(respondents, points, engine, sites, minutes=minutes)
    return pd.DataFrame([*frame.to_dict("records"), row], columns=frame.columns)


def analyse_survey(
    settings: Settings, request: SurveyAnalysisRequest, *, inputs: LoadedInputs | None = None
) -> SurveyAnalysis:
    """Score, type and group the stored respondents living on a territory.

    ``inputs`` (loaded inputs, a workspace) give the communes instead of the request's
    files; fictional inputs analyse the demonstration store.

    Raises
    ------
    TerritoryError
        When the territory is invalid or selects no commune.
    SchemaError
        When no respondent lives on the territory.
    """
    _check_group_size(request.min_group_size)
    minutes = request.minutes if request.minutes is not None else settings.catchment_minutes
    if inputs is not None:
        communes = inputs.communes
        request = replace(request, demo=inputs.fictional)
    else:
        communes = _communes(settings, request.communes, demo=request.demo)
    codes, label, notes = _territory(
        communes,
        request.territory,
        demo=request.demo,
        zonages=_zonings(inputs) if inputs is not None else None,
    )
    if inputs is not None and (request.territory or not request.demo):
        # Loaded inputs have the zonings' labels: the territory by its official name
        # (the demo's invented one, marked FICTIF).
        label = territory_name(inputs, request.territory)
    generic = parse_territory(request.territory).label() if request.territory else label
    if request.territory_name and label == generic:
        label = request.territory_name
    with contact_store(settings, demo=request.demo) as store:
        stored = store.responses.list_responses()
    if request.campaign is not None:
        stored = [r for r in stored if r.campaign_id == request.campaign]
    inside = set(codes)
    kept = [r for r in stored if r.commune in inside]
    if not kept and request.campaign is not None:
        raise SchemaError(
            _(
                "Aucun répondant de cette campagne n'habite {territory} ({n} réponse(s) reçue(s)).",
                territory=label,
                n=len(stored),
            )
        )
    if not kept:
        raise SchemaError(
            _(
                "Aucun répondant n'habite {territory} ({n} répondant(s) enregistré(s)) : "
                "recueillez des réponses (campagne en ligne, saisie des réponses papier) ou "
                "importez-en (écran « Questionnaire » de l'application web, ou « tierslieux "
                "survey import » en ligne de commande).",
                territory=label,
                n=len(stored),
            )
        )
    if len(kept) < len(stored):
        notes.append(
            _(
                "{n} répondant(s) habitant hors du territoire ne sont pas analysés.",
                n=len(stored) - len(kept),
            )
        )
    # Analysis outputs carry sequence numbers, never the stored ids.
    numbers = {r.id: f"R{i:04d}" for i, r in enumerate(kept, start=1)}
    respondents = [Respondent(numbers[r.id], r.commune, r.answers) for r in kept]
    names = communes.table.set_index("code")["nom"].astype(str).to_dict()
    scores = fit_scores(respondents)
    themes = {r.id: ";".join(respondent_themes(r.answers)) for r in respondents}
    scores.insert(2, "nom_commune", scores["commune"].map(names))
    scores["themes"] = scores["repondant"].map(themes)
    # Days per week the respondent expects to come (read by « tierslieux sites », co2).
    days = {
        r.id: r.answers.get("jours_par_semaine")
        for r in respondents
        if isinstance(r.answers.get("jours_par_semaine"), float)
    }
    scores["jours_par_semaine"] = scores["repondant"].map(days)
    points = communes.table[["code", "latitude", "longitude"]].dropna()
    engine = _respondent_engine(settings, request.travel_times)
    sites = (
        read_sites(request.sites, set(communes.table["code"].astype(str)))
        if request.sites is not None
        else None
    )
    groups = candidate_groups(
        respondents,
        points,
        engine,
        minutes=minutes,
        min_members=request.min_members,
        min_size=request.min_group_size,
    )
    groups.insert(
        4,
        "noms_communes",
        groups["communes"].map(lambda s: ";".join(names.get(c, c) for c in str(s).split(";"))),
    )
    # In the current language: the labels of the results (codes are unchanged).
    questionnaire = load_questionnaire().translated()
    # After the columns « tierslieux sites --groups » reads (groupe, theme, membres...).
    groups.insert(5, "libelle_theme", groups["theme"].map(lambda t: theme_label(t, questionnaire)))
    return SurveyAnalysis(
        territory_label=label,
        questionnaire=questionnaire,
        respondents=scores,
        typology=_typology_with_sites(respondents, points, engine, sites, minutes),
        groups=groups,
        outside=len(stored) - len(kept),
        minutes=minutes,
        engine=engine.name,
        fictional=request.demo,
        notes=tuple(notes),
        questions=question_summary(questionnaire, respondents),
        answers=answer_counts(
            questionnaire, respondents, commune_names={str(k): v for k, v in names.items()}
        ),
        comments=free_texts(questionnaire, respondents),
        communes=_commune_table(communes, codes, respondents, groups),
        geometries={c: g for c, g in communes.geometries.items() if c in inside},
        min_group_size=request.min_group_size,
    )


def _territory(
    communes: Communes,
    territory: str,
    *,
    demo: bool,
    zonages: pd.DataFrame | None = None,
) -> tuple[list[str], str, list[str]]:
    """The territory's commune codes, its label and the notes of an analysis.

    ``zonages``: the zonings table of the inputs (a project's file, the workspace's):
    it gives the communes the levels their own file lacks (EPCI, bassin de vie), as the
    diagnostic selects them.  On the fictional demo territory, every commune unless
    ``territory`` names a part.
    """
    notes: list[str] = []
    if demo:
        notes.append(fictional_note())
        codes = communes.table["code"].astype(str).tolist()
        if territory:
            spec = parse_territory(territory)
            codes = select_communes(spec, communes.table, zonages, listed=listed_communes(spec))
        return codes, _("Territoire fictif de démonstration"), notes
    spec = parse_territory(territory)
    codes = select_communes(spec, communes.table, zonages, listed=listed_communes(spec))
    return codes, spec.label(), notes


def _zonings(inputs: LoadedInputs) -> pd.DataFrame | None:
    return inputs.zonages.table if inputs.zonages is not None else None


def territory_communes(inputs: LoadedInputs, territory: str) -> tuple[list[str], str]:
    """The commune codes and label of ``territory`` as :func:`analyse_survey` selects them.

    Raises
    ------
    TerritoryError
        When the territory is invalid or selects no commune.
    """
    codes, label, _notes = _territory(
        inputs.communes, territory, demo=inputs.fictional, zonages=_zonings(inputs)
    )
    return codes, label


def fictional_note() -> str:
    """The warning of an analysis on the fictional demo territory (the page's banner)."""
    return _("Territoire FICTIF de démonstration : les communes sont inventées.")


def _check_group_size(size: int) -> None:
    found = Problems()
    if size < 2:  # a group gathers at least two people
        found.add(
            "{min_group_size} vaut {value} : au moins 2 attendu (un groupe réunit au moins "
            "deux personnes).",
            field="min_group_size",
            value=size,
        )
    found.raise_if_any(SchemaError)


def _commune_table(
    communes: Communes,
    codes: Sequence[str],
    respondents: Sequence[Respondent],
    groups: pd.DataFrame,
) -> pd.DataFrame:
    """The territory's communes with their respondents and group members, for the maps."""
    counts = commune_counts(respondents, groups, codes)
    table = communes.table.drop_duplicates("code").set_index("code")
    located = table.reindex(counts["code"])
    return counts.assign(
        nom=located["nom"].astype(str).to_numpy(),
        latitude=located["latitude"].astype("float64").to_numpy(),
        longitude=located["longitude"].astype("float64").to_numpy(),
    )[["code", "nom", *counts.columns[1:], "latitude", "longitude"]]


#: Criteria of the fit score, re-exported for the reports.
SCORE_CRITERIA = CRITERIA
