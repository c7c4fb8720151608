"""The territory dossier's files, rendered in memory, and the one call that makes them.

:func:`dossier_files` renders a :class:`~tierslieux.pipeline.dossier.Dossier` into
``dossier.pdf`` (WeasyPrint, A4), ``dossier.xlsx`` (openpyxl), ``dossier.gpkg``
(pyogrio, QGIS styles inside) and ``dossier-umap.geojson`` (uMap), as
``(name, bytes)``; :func:`write_dossier` writes them into a folder, all or nothing.

:func:`make_dossier` is what an interface calls: the project's inputs (a request and,
optionally, inputs already loaded), an output folder and a progress callback.  It runs
the use case (:func:`~tierslieux.pipeline.dossier.run_dossier`) then the renderers,
reporting progress all along (the renderers take the last 15 %), so a web job
(:class:`~tierslieux.pipeline.jobs.JobRunner`) can show and cancel it::

    job = JobRunner().submit(make_dossier, settings, request, out_dir)

The use case lives in :mod:`tierslieux.pipeline.dossier`; the rendering lives here
because the pipeline layer may not import the renderers (import-linter's layers).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path  # noqa: TC003 (a field of WrittenDossier)
from typing import TYPE_CHECKING

from tierslieux.files import write_output_files
from tierslieux.i18n import gettext as _
from tierslieux.model.types import ProgressReporter
from tierslieux.pipeline.dossier import Dossier, run_dossier
from tierslieux.reports.dossier.basemap import Basemap
from tierslieux.reports.dossier.geopackage import render_geopackage
from tierslieux.reports.dossier.pdf import render_dossier_html, render_pdf
from tierslieux.reports.dossier.umap import render_umap
from tierslieux.reports.dossier.workbook import render_workbook

if TYPE_CHECKING:
    from tierslieux.config import Settings
    from tierslieux.model.types import ProgressCallback
    from tierslieux.pipeline.dossier import DossierRequest
    from tierslieux.pipeline.inputs import LoadedInputs

__all__ = [
    "DOSSIER_FILES",
    "Basemap",
    "WrittenDossier",
    "dossier_files",
    "make_dossier",
    "render_dossier_html",
    "render_geopackage",
    "render_pdf",
    "render_umap",
    "render_workbook",
    "write_dossier",
]

DOSSIER_FILES = ("dossier.pdf", "dossier.xlsx", "dossier.gpkg", "dossier-umap.geojson")


def dossier_files(
    dossier: Dossier,
    *,
    progress: ProgressCallback | None = None,
    basemap: Basemap | None = None,
) -> list[tuple[str, bytes]]:
    """Return every file of the dossier as ``(name, bytes)``, in memory (``basemap``:
    an optional tile basemap under the PDF's maps, off by default)."""
    report = ProgressReporter(progress)
    report("ecriture", _("Classeur Excel"), 0.86)
    workbook = render_workbook(dossier)
    report("ecriture", _("GeoPackage pour QGIS"), 0.89)
    geopackage = render_geopackage(dossier)
    report("ecriture", _("Fichier pour uMap"), 0.92)
    umap = render_umap(dossier)
    report("ecriture", _("Document PDF"), 0.93)
    pdf = render_pdf(dossier, basemap=basemap)
    return [
        ("dossier.pdf", pdf),
        ("dossier.xlsx", workbook),
        ("dossier.gpkg", geopackage),
        ("dossier-umap.geojson", umap),
    ]


def write_dossier(
    dossier: Dossier,
    out: Path,
    *,
    progress: ProgressCallback | None = None,
    basemap: Basemap | None = None,
) -> list[Path]:
    """Render the files of :func:`dossier_files` and write them into ``out`` (all or
    nothing); return their paths, sorted by name."""
    files = dossier_files(dossier, progress=progress, basemap=basemap)
    return sorted(write_output_files(out, files, owner="dossier"))


@dataclass(frozen=True)
class WrittenDossier:
    """What :func:`make_dossier` made: the dossier and the paths of its files."""

    dossier: Dossier
    files: list[Path]


def make_dossier(
    settings: Settings,
    request: DossierRequest,
    out: Path,
    *,
    inputs: LoadedInputs | None = None,
    progress: ProgressCallback | None = None,
    basemap: Basemap | None = None,
) -> WrittenDossier:
    """Compute the dossier of ``request`` and write its files into ``out``.

    ``inputs`` already loaded (a workspace's) are used instead of reading the files
    again; ``progress`` receives every step's events, ``fraction`` from 0 to 1.
    """
    dossier = run_dossier(settings, request, progress, inputs=inputs)
    paths = write_dossier(dossier, out, progress=progress, basemap=basemap)
    ProgressReporter(progress)("fin", _("Dossier écrit"), 1.0)
    return WrittenDossier(dossier, paths)
