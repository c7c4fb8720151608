"""The territory dossier of a project, as a run of the web application.

:func:`run_project_dossier` computes the :class:`~tierslieux.pipeline.dossier.Dossier`
of a project on its inputs (the project's files, else the installation's workspace,
as the other screens: :func:`~tierslieux.pipeline.project_runs.project_inputs`); the
project's directory of structures, existing tiers-lieux and hand-added actors, when it
has them, are the ``--structures``, ``--tiers-lieux`` and ``--acteurs`` of
``tierslieux dossier``.  The structures are those the sites screen takes by default
(:func:`~tierslieux.pipeline.site_scenarios.default_structures`, one loader): the
latest finished directory run of the base communities screen, else the project's
uploaded structures.csv; with them the registries are not read again.  The web layer renders
it with :func:`tierslieux.reports.dossier.dossier_files` and keeps the files in the
run (the pipeline may not import the renderers).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tierslieux.i18n import N_
from tierslieux.pipeline.dossier import DossierRequest, assemble_dossier
from tierslieux.pipeline.project_runs import project_inputs
from tierslieux.pipeline.projects import materialise_dataset
from tierslieux.pipeline.site_scenarios import default_structures, structures_file

if TYPE_CHECKING:
    from collections.abc import Mapping

    from tierslieux.config import Settings
    from tierslieux.model.types import ProgressCallback
    from tierslieux.pipeline.dossier import Dossier
    from tierslieux.pipeline.projects import ProjectView
    from tierslieux.store import Repositories

__all__ = [
    "DOSSIER_FILE_LABELS",
    "DOSSIER_KIND",
    "DOSSIER_MEDIA_TYPES",
    "dossier_summary",
    "run_project_dossier",
]

#: Kind of the dossier's runs (:data:`~tierslieux.pipeline.project_runs.RUN_KINDS`).
DOSSIER_KIND = "dossier"
#: Media types of the dossier's files (the GeoPackage's is not in every system's table).
DOSSIER_MEDIA_TYPES: dict[str, str] = {
    "dossier.pdf": "application/pdf",
    "dossier.xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "dossier.gpkg": "application/geopackage+sqlite3",
    "dossier-umap.geojson": "application/geo+json",
}
#: What each file is for, in the reader's words (untranslated; shown with ``_``).
DOSSIER_FILE_LABELS: dict[str, str] = {
    "dossier.pdf": N_("Document PDF à imprimer (élus, comité de pilotage)"),
    "dossier.xlsx": N_("Classeur Excel : un onglet par tableau, en-têtes en français"),
    "dossier.gpkg": N_("GeoPackage pour QGIS : couches stylées"),
    "dossier-umap.geojson": N_("Fichier GeoJSON pour uMap"),
}


def run_project_dossier(
    repos: Repositories,
    settings: Settings,
    project: ProjectView,
    *,
    workspace: Path | None,
    progress: ProgressCallback | None = None,
    structures: Mapping[str, Any] | None = None,
    territory_name: str = "",
) -> Dossier:
    """Compute the dossier of ``project`` (as ``tierslieux dossier`` on its inputs).

    ``structures``: which directory of structures, as
    :func:`~tierslieux.pipeline.site_scenarios.default_structures` gives it (read when
    the run is launched, so that the run uses the directory its page names); by
    default, read now.  ``territory_name``: the territory's official name
    (:func:`~tierslieux.pipeline.projects.territory_display_name`), used when the
    project's files name it only by its code.

    Raises
    ------
    TierslieuxError
        When the inputs are refused or the diagnostic or the directory cannot be
        computed (the questionnaire and the sites become notes of the dossier).
    """
    settings.cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tierslieux-dossier-", dir=settings.cache_dir) as tmp:
        folder = Path(tmp)
        chosen = default_structures(repos, project.id) if structures is None else structures
        structures_path = structures_file(repos, project.id, chosen, folder)
        tiers_lieux = materialise_dataset(repos, project.id, "tiers_lieux", folder)
        acteurs = materialise_dataset(repos, project.id, "acteurs", folder)
        with project_inputs(repos, settings, project.id, workspace) as inputs:
            request = DossierRequest(
                territory=project.territory,
                structures=structures_path,
                tiers_lieux=tiers_lieux,
                acteurs=acteurs,
                demo=inputs.fictional,
                territory_name=territory_name,
            )
            return assemble_dossier(settings, inputs, request, progress=progress)


def dossier_summary(dossier: Dossier) -> dict[str, Any]:
    """What a dossier's run shows beside its files (JSON)."""
    return {
        "territoire": dossier.territory_name,
        "communes": len(dossier.diagnosis.communes),
        "sites": 0 if dossier.sites is None else len(dossier.sites.sites),
        "repondants": 0 if dossier.survey is None else len(dossier.survey.respondents),
        "synthetique": dossier.synthetic,
        "fictif": dossier.fictional,
        "notes": list(dossier.notes),
    }
