"""The questionnaire of a web project: its answers, imports, results and export.

Answers are not stored per project.  The store keeps each respondent once, with the
commune where they live (``survey_respondents.commune``), the file they were imported
from (``source``) and when (``created_at``); the answers of a project are those of the
respondents who live in its territory, selected as ``tierslieux survey analyse
--territory`` selects them (:func:`~tierslieux.pipeline.survey.territory_communes`), so
the page and the command line count the same people.  Two projects on overlapping
territories see the same respondents; a respondent living outside every project is
counted in the store but in no project.

Fictional inputs (the demo workspace) use the demonstration store, as ``--demo`` does
(:func:`~tierslieux.pipeline.contacts.contact_store`).

An import from the web goes in two steps: the uploaded export is kept aside
(:func:`stage_export`, a file readable by its owner only, under the cache folder,
deleted after the import or after :data:`STAGED_HOURS` hours), the automatic mapping is
shown for review (:func:`~tierslieux.pipeline.survey.propose_survey_mapping`), then
:func:`import_project_answers` imports it with that mapping (or the one edited by the
user) and writes a row of the audit log: who, which file, which tool, how many lines.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePath
from typing import TYPE_CHECKING

from tierslieux.errors import SourceError
from tierslieux.i18n import gettext as _
from tierslieux.pipeline.contacts import contact_store
from tierslieux.pipeline.survey import (
    MIN_GROUP_SIZE,
    ExportSummary,
    ImportSummary,
    SurveyAnalysis,
    SurveyAnalysisRequest,
    analyse_survey,
    export_answers,
    import_answers,
    territory_communes,
)
from tierslieux.sources.survey_formats import TOOLS

if TYPE_CHECKING:
    from collections.abc import Collection, Sequence

    from tierslieux.config import Settings
    from tierslieux.pipeline.inputs import LoadedInputs
    from tierslieux.store import ProjectView, Repositories, UserView
    from tierslieux.store.audit import AuditView
    from tierslieux.store.responses import RespondentView

__all__ = [
    "IMPORT_ACTION",
    "STAGED_HOURS",
    "ImportBatch",
    "StagedExport",
    "SurveyOverview",
    "analyse_project_survey",
    "answers_state",
    "export_project_answers",
    "import_project_answers",
    "stage_export",
    "staged_export",
    "survey_overview",
]

#: Action of the audit-log row of a web import.
IMPORT_ACTION = "survey.import"
#: Action of the audit-log row of a download of the answers.
EXPORT_ACTION = "survey.export"
#: Hours an uploaded export waits for its import before it is deleted.
STAGED_HOURS = 24
#: Two answers of one file stored this close together belong to the same import.
_BATCH_GAP = timedelta(seconds=5)
#: An audit row this close to a batch's first answer is the import that stored it.
_AUDIT_GAP = timedelta(minutes=2)
_AUDIT_ROWS = 2000
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


@dataclass(frozen=True, slots=True)
class ImportBatch:
    """Answers stored together from one file.

    ``answers`` counts the respondents of the batch still stored, ``inside`` those
    living in the project's territory; ``tool`` and ``actor`` are known for an import
    made through the web application (its audit-log row), empty otherwise (command
    line, Python API).
    """

    source: str
    imported_at: datetime
    answers: int
    inside: int
    tool: str = ""
    actor: str = ""


@dataclass(frozen=True)
class SurveyOverview:
    """How many answers a project has and where they come from.

    ``stored`` counts every respondent of the store, ``inside`` those living in the
    territory; ``versions`` the questionnaire version of the latter;
    ``communes`` ``(code, name, respondents)`` for the territory's communes with at
    least one respondent, most first.
    """

    territory_label: str
    fictional: bool
    stored: int
    inside: int
    versions: tuple[tuple[str, int], ...]
    batches: tuple[ImportBatch, ...]
    communes: tuple[tuple[str, str, int], ...]
    #: ``(channel, respondents)`` in the territory: ``import``, ``en_ligne``, ``papier``.
    channels: tuple[tuple[str, int], ...] = ()

    @property
    def outside(self) -> int:
        """Respondents of the store who live outside the territory."""
        return self.stored - self.inside


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _batches(
    stored: Sequence[RespondentView], inside: Collection[str], imports: Sequence[AuditView]
) -> list[ImportBatch]:
    """Group the respondents (oldest first) into the imports that stored them."""
    found: list[ImportBatch] = []
    last_at: datetime | None = None
    for row in stored:
        within = int(row.commune in inside)
        current = found[-1] if found else None
        if (
            current is not None
            and last_at is not None
            and current.source == row.source
            and _aware(row.created_at) - last_at <= _BATCH_GAP
        ):
            found[-1] = replace(
                current, answers=current.answers + 1, inside=current.inside + within
            )
        else:
            found.append(ImportBatch(row.source, _aware(row.created_at), 1, within))
        last_at = _aware(row.created_at)
    for index, batch in enumerate(found):
        for entry in imports:
            if (
                entry.details.get("fichier") == batch.source
                and abs(_aware(entry.occurred_at) - batch.imported_at) <= _AUDIT_GAP
            ):
                tool = str(entry.details.get("outil_libelle") or "")
                found[index] = replace(batch, tool=tool, actor=entry.actor or "")
                break
    return found


def survey_overview(
    settings: Settings, repos: Repositories, project: ProjectView, inputs: LoadedInputs
) -> SurveyOverview:
    """Count a project's answers: in the store, in the territory, per import and commune.

    Raises
    ------
    TerritoryError
        When the project's territory selects no commune of ``inputs``.
    """
    codes, label = territory_communes(inputs, project.territory)
    inside = set(codes)
    with contact_store(settings, demo=inputs.fictional) as store:
        stored = store.responses.list_responses()
    kept = [r for r in stored if r.commune in inside]
    names = inputs.communes.table.set_index("code")["nom"].astype(str).to_dict()
    per_commune = Counter(r.commune for r in kept)
    # Answers of the collection campaigns are not import batches (their campaign lists them).
    imported = [r for r in stored if r.campaign_id is None]
    batches = _batches(
        imported, inside, repos.audit.entries(limit=_AUDIT_ROWS, action=IMPORT_ACTION)
    )
    channels = Counter(r.channel for r in kept)
    return SurveyOverview(
        territory_label=label,
        fictional=inputs.fictional,
        stored=len(stored),
        inside=len(kept),
        versions=tuple(sorted(Counter(r.questionnaire_version for r in kept).items())),
        batches=tuple(reversed(batches)),
        communes=tuple(
            (code, str(names.get(code, code)), n)
            for code, n in sorted(per_commune.items(), key=lambda item: (-item[1], item[0]))
        ),
        channels=tuple((c, channels[c]) for c in ("import", "en_ligne", "papier") if channels[c]),
    )


def analyse_project_survey(
    settings: Settings,
    project: ProjectView,
    inputs: LoadedInputs,
    *,
    min_group_size: int = MIN_GROUP_SIZE,
    campaign: int | None = None,
) -> SurveyAnalysis:
    """``tierslieux survey analyse --territory <project's territory>`` on ``inputs``.

    ``campaign``: only the answers of that collection campaign (its page).

    Raises
    ------
    TerritoryError
        When the territory selects no commune.
    SchemaError
        When no respondent lives there, or ``min_group_size`` is below 2.
    """
    request = SurveyAnalysisRequest(
        territory=project.territory, min_group_size=min_group_size, campaign=campaign
    )
    return analyse_survey(settings, request, inputs=inputs)


def answers_state(
    settings: Settings, repos: Repositories, project: ProjectView, inputs: LoadedInputs
) -> tuple[object, ...]:
    """What a project's analysis depends on besides its options: a key for a cache.

    The project's territory and input files, and the store's answers (how many, the
    latest stored): an import, an erasure or a purge changes it.
    """
    with contact_store(settings, demo=inputs.fictional) as store:
        stored = store.responses.list_responses()
    latest = max((r.created_at for r in stored), default=None)
    files = tuple((d.role, d.uploaded_at) for d in repos.projects.datasets(project.id))
    return (project.id, project.territory, inputs.fictional, files, len(stored), latest)


# -- import from the web ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StagedExport:
    """An uploaded export waiting for its import: ``token`` names it in the next request."""

    token: str
    path: Path

    @property
    def filename(self) -> str:
        """The file's name (as stored with its answers)."""
        return self.path.name


def _staging(settings: Settings, project: int) -> Path:
    return Path(settings.cache_dir) / "web" / "survey-imports" / str(project)


def _safe_name(filename: str) -> str:
    name = PurePath(filename.replace("\\", "/")).name
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._")
    return cleaned or "export.csv"


def _sweep(folder: Path) -> None:
    """Delete the exports staged more than :data:`STAGED_HOURS` hours ago."""
    if not folder.is_dir():
        return
    limit = time.time() - STAGED_HOURS * 3600
    for entry in folder.iterdir():
        try:
            if entry.stat().st_mtime < limit:
                shutil.rmtree(entry, ignore_errors=True)
        except OSError:  # pragma: no cover - removed by another worker meanwhile
            continue


def stage_export(settings: Settings, project: int, filename: str, content: bytes) -> StagedExport:
    """Keep an uploaded export until its import (owner-only file); return its token.

    Raises
    ------
    SourceError
        When the file is empty or cannot be written.
    """
    name = _safe_name(filename)
    if not content:
        raise SourceError(_("Le fichier « {name} » est vide.", name=name))
    root = _staging(settings, project)
    _sweep(root)
    token = secrets.token_urlsafe(24)
    folder = root / token
    try:
        folder.mkdir(parents=True, mode=0o700)
        path = folder / name
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
    except OSError as error:
        raise SourceError(
            _("Fichier « {name} » non enregistré ({error}).", name=name, error=error)
        ) from error
    return StagedExport(token, path)


def staged_export(settings: Settings, project: int, token: str) -> StagedExport:
    """The export staged under ``token`` for ``project``.

    Raises
    ------
    SourceError
        When the token is malformed, unknown, or its file was deleted (imported, or
        older than :data:`STAGED_HOURS` hours).
    """
    folder = _staging(settings, project) / token
    files = sorted(folder.iterdir()) if _TOKEN.match(token) and folder.is_dir() else []
    if len(files) != 1:
        raise SourceError(
            _(
                "Ce fichier déposé n'est plus disponible (déjà importé ou déposé il y a "
                "plus de {hours} heures) : déposez-le à nouveau.",
                hours=STAGED_HOURS,
            )
        )
    return StagedExport(token, files[0])


def import_project_answers(  # noqa: PLR0913 - one import's keyword-only facts
    settings: Settings,
    repos: Repositories,
    project: ProjectView,
    staged: StagedExport,
    inputs: LoadedInputs,
    *,
    mapping: str | None,
    tool: str,
    actor: UserView,
    ip: str | None = None,
) -> ImportSummary:
    """Import a staged export (``survey import``), then forget the file.

    Parameters
    ----------
    mapping
        The YAML mapping to use (as ``--mapping``); ``None``: the automatic one, when
        it is certain (as without ``--mapping``).
    tool
        The tool the export was recognised as (:data:`~tierslieux.sources.survey_formats.TOOLS`),
        recorded in the audit log.

    Raises
    ------
    SourceError, SchemaError
        As :func:`~tierslieux.pipeline.survey.import_answers`: nothing is stored, and the
        staged file is kept so that the user can correct the mapping.
    TerritoryError
        When the project's territory selects no commune of ``inputs``.
    """
    # The project's territory tells homonyms apart, as on its public form.
    codes, _label = territory_communes(inputs, project.territory)
    if mapping is None:
        summary = import_answers(settings, staged.path, inputs=inputs, territory=codes)
    else:
        with tempfile.TemporaryDirectory(prefix="tierslieux-mapping-") as folder:
            path = Path(folder) / "correspondance.yaml"
            path.write_text(mapping, encoding="utf-8")
            summary = import_answers(settings, staged.path, path, inputs=inputs, territory=codes)
    repos.audit.record(
        actor=actor.login,
        action=IMPORT_ACTION,
        target=f"project:{project.id}",
        details={
            "fichier": staged.filename,
            "outil": tool,
            "outil_libelle": _(TOOLS[tool]) if tool in TOOLS else tool,
            "correspondance": "automatique" if mapping is None else "relue",
            "lignes": summary.lines,
            "ajoutees": summary.added,
            "rejetees": len({i.line for i in summary.rejected}),
            "fictif": inputs.fictional,
        },
        ip=ip,
    )
    shutil.rmtree(staged.path.parent, ignore_errors=True)
    return summary


def export_project_answers(
    settings: Settings,
    repos: Repositories,
    project: ProjectView,
    inputs: LoadedInputs,
    *,
    actor: UserView,
    ip: str | None = None,
) -> tuple[bytes, ExportSummary]:
    """The pseudonymised CSV of the answers of the project's territory (``survey export``).

    Respondent ids are replaced by sequence numbers, consent times by their date and
    contact details in free texts masked; the download is written to the audit log.
    """
    codes, _label = territory_communes(inputs, project.territory)
    with tempfile.TemporaryDirectory(prefix="tierslieux-export-") as folder:
        out = Path(folder) / "reponses.csv"
        summary = export_answers(settings, out, demo=inputs.fictional, communes=set(codes))
        content = out.read_bytes()
    repos.audit.record(
        actor=actor.login,
        action=EXPORT_ACTION,
        target=f"project:{project.id}",
        details={"repondants": summary.respondents, "pseudonymise": True},
        ip=ip,
    )
    return content, summary
