"""The territory dossier: every study of one territory, computed together for one document.

:func:`assemble_dossier` runs, on inputs loaded once, the diagnostic
(:func:`~tierslieux.pipeline.diagnose.diagnose`), the directory of base communities
(:func:`~tierslieux.pipeline.communities.run_communities`), the questionnaire analysis
when answers are stored for the territory
(:func:`~tierslieux.pipeline.survey.analyse_survey`) and the site selection
(:func:`~tierslieux.pipeline.sites.choose_sites`, with the structures just found as
its base communities), and returns a frozen :class:`Dossier`.  :func:`run_dossier`
loads the inputs first, as the command line does.  The renderers of
:mod:`tierslieux.reports.dossier` turn a :class:`Dossier` into the PDF, the workbook,
the GeoPackage and the uMap file; ``reports.dossier.make_dossier`` chains both steps
for an interface (command line, web job) that has an output folder.

Progress: one :data:`~tierslieux.model.types.ProgressCallback` receives the events of
every step, their ``fraction`` rescaled to the whole dossier (phases ``diagnostic``,
``communautes``, ``questionnaire``, ``sites``, then the renderers' ``ecriture``), so
that a :class:`~tierslieux.pipeline.jobs.JobRunner` shows one bar and can cancel it.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shapely.geometry import mapping, shape
from shapely.ops import unary_union

from tierslieux.errors import InfeasibleError, SchemaError
from tierslieux.files import frame_spreadsheet_csv
from tierslieux.i18n import gettext as _
from tierslieux.model.structures import COMMUNITY_CATEGORIES
from tierslieux.model.territory import parse_territory
from tierslieux.model.types import ProgressEvent, ProgressReporter
from tierslieux.pipeline._sites_inputs import SiteFiles
from tierslieux.pipeline.communities import (
    CommunitiesRequest,
    communities_from_structures,
    run_communities,
)
from tierslieux.pipeline.diagnose import DiagnoseRequest, diagnose
from tierslieux.pipeline.inputs import demo_files, load_inputs, request_files
from tierslieux.pipeline.readers import read_structures_table
from tierslieux.pipeline.sites import SitesRequest, choose_sites
from tierslieux.pipeline.survey import SurveyAnalysisRequest, analyse_survey

if TYPE_CHECKING:
    from tierslieux.config import Settings
    from tierslieux.model.types import ProgressCallback, Provenance
    from tierslieux.pipeline.communities import Communities
    from tierslieux.pipeline.diagnose import Diagnosis
    from tierslieux.pipeline.inputs import InputFiles, LoadedInputs
    from tierslieux.pipeline.sites import SitesResult
    from tierslieux.pipeline.survey import SurveyAnalysis

__all__ = ["OUTLINE_LEVELS", "Dossier", "DossierRequest", "assemble_dossier", "run_dossier"]

#: Zonings outlined on the maps and written as layers: column of ``communes`` -> level
#: of the zonings' labels.
OUTLINE_LEVELS: dict[str, str] = {"dep": "dep", "epci": "epci", "bv2022": "bv2022"}

# Share of the whole dossier at which each step starts (the renderers take the rest).
_STEPS = {"diagnostic": 0.0, "communautes": 0.25, "questionnaire": 0.45, "sites": 0.5}
_RENDERING = 0.85


@dataclass(frozen=True)
class DossierRequest:
    """What the dossier covers: the territory, its input files and the site selection.

    The paths are optional and resolved as for the other commands (``--data``, the
    catalogue's downloads, the demo).  ``count`` sites are chosen with the objective
    ``objective``; ``survey`` analyses the stored questionnaire answers when some live
    on the territory (the dossier says so when there are none).
    """

    territory: str
    count: int = 3
    minutes: float | None = None
    objective: str = "couverture"
    communes: tuple[Path, ...] = ()
    zonages: Path | None = None
    densite: Path | None = None
    mobpro: Path | None = None
    travel_times: Path | None = None
    sirene_etablissements: Path | None = None
    sirene_unites_legales: Path | None = None
    rna: Path | None = None
    tiers_lieux: Path | None = None
    gares: Path | None = None
    mediation: Path | None = None
    acteurs: Path | None = None
    pnr: Path | None = None
    #: A directory already made (``structures.csv`` of ``tierslieux communities``, a
    #: project's input file): its structures are the dossier's, the registries (Sirene,
    #: RNA, places, actors) are not read.
    structures: Path | None = None
    #: The territory's name for people when the files name it only by its code
    #: (« EPCI 200067742 »): a project's official name.
    territory_name: str = ""
    survey: bool = True
    sites: bool = True
    time_limit: float = 60.0
    demo: bool = False

    def files(self) -> InputFiles:
        """The source files named by the request (resolved by ``load_inputs``)."""
        return request_files(self)


@dataclass(frozen=True)
class Dossier:
    """Every study of one territory, ready to render.

    Attributes
    ----------
    territory
        The request's territory (``dep:05``).
    territory_name
        Its official name (« Hautes-Alpes »), from the zonings' labels when known.
    generated
        When the dossier was computed (UTC, aware; shown in Paris time).
    diagnosis, communities
        The diagnostic and the directory of base communities.
    survey
        The questionnaire analysis, or None (no answer on the territory, or not asked).
    sites
        The site selection, or None (not asked, or impossible: see ``notes``).
    outlines
        Zoning level (``dep``, ``epci``, ``bv2022``) -> zone code -> outline (GeoJSON
        geometry, WGS84), the union of its communes' polygons within the territory.
    zone_names
        Zoning level -> zone code -> official name (when the zonings have labels).
    notes
        Why a part is missing, in French.
    """

    territory: str
    territory_name: str
    generated: dt.datetime
    diagnosis: Diagnosis
    communities: Communities
    survey: SurveyAnalysis | None
    sites: SitesResult | None
    outlines: dict[str, dict[str, dict[str, Any]]]
    zone_names: dict[str, dict[str, str]]
    minutes: float
    request: DossierRequest
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def synthetic(self) -> bool:
        """True when the census used is synthetic (every page says so)."""
        return self.diagnosis.synthetic

    @property
    def fictional(self) -> bool:
        """True on the fictional demo territory (every page says so)."""
        return self.diagnosis.fictional

    @property
    def provenance(self) -> tuple[Provenance, ...]:
        """Every input of every part, once (role and location)."""
        seen: dict[tuple[str, str], Provenance] = {}
        for part in (self.diagnosis.provenance, self.communities.provenance):
            for prov in part:
                seen.setdefault((prov.role, prov.location), prov)
        return tuple(seen.values())


class _Scaled:
    """Forward a step's progress events with their fraction rescaled to the dossier."""

    def __init__(self, callback: ProgressCallback | None, start: float, end: float) -> None:
        self.callback, self.start, self.end = callback, start, end

    def __call__(self, event: ProgressEvent) -> None:
        if self.callback is None:
            return
        fraction = (
            self.start
            if event.fraction is None
            else self.start + (self.end - self.start) * min(max(event.fraction, 0.0), 1.0)
        )
        self.callback(replace(event, fraction=fraction))


def _scaled(progress: ProgressCallback | None, step: str) -> _Scaled:
    order = [*_STEPS.values(), _RENDERING]
    start = _STEPS[step]
    return _Scaled(progress, start, order[order.index(start) + 1])


def _outlines(diagnosis: Diagnosis) -> dict[str, dict[str, dict[str, Any]]]:
    """Outline of each zone of the territory: the union of its communes' polygons."""
    communes = diagnosis.communes
    outlines: dict[str, dict[str, dict[str, Any]]] = {}
    for column in OUTLINE_LEVELS:
        if column not in communes.columns:
            continue
        zones: dict[str, dict[str, Any]] = {}
        for code, group in communes.groupby(communes[column].astype("string"), dropna=True):
            shapes = [
                shape(diagnosis.geometries[c])
                for c in group["code"].astype(str)
                if c in diagnosis.geometries
                and diagnosis.geometries[c].get("type") in {"Polygon", "MultiPolygon"}
            ]
            if shapes and str(code):
                merged = unary_union([s.buffer(0) for s in shapes])
                zones[str(code)] = dict(mapping(merged))
        if zones:
            outlines[column] = zones
    return outlines


def _structures_for_sites(communities: Communities) -> SiteFiles | None:
    """The directory's structures as ``tierslieux sites`` reads them from structures.csv.

    Written and read back through the same CSV as the command line chain
    (``communities`` then ``sites --structures``), so the dossier's sites are those the
    two commands would give.
    """
    if communities.structures.empty:
        return None
    with tempfile.TemporaryDirectory(prefix="tierslieux-dossier-") as folder:
        path = Path(folder) / "structures.csv"
        path.write_bytes(frame_spreadsheet_csv(communities.structures))
        structures = read_structures_table(path)
    carriers = structures["categorie"].isin(COMMUNITY_CATEGORIES)
    # Partners alone (an EPCI, a park) never make a base community: without any carrier
    # the constraint would leave no candidate, so the sites are chosen without it.
    return SiteFiles(structures=structures) if carriers.any() else None


def assemble_dossier(
    settings: Settings,
    inputs: LoadedInputs,
    request: DossierRequest,
    *,
    progress: ProgressCallback | None = None,
) -> Dossier:
    """Compute every part of the dossier on loaded inputs (no file is written).

    Parameters
    ----------
    settings
        Run settings.
    inputs
        Inputs loaded once (:func:`~tierslieux.pipeline.inputs.load_inputs` or a
        workspace); the census is needed for the diagnostic.
    request
        Territory, registries and site selection.
    progress
        Optional callback receiving :class:`~tierslieux.model.types.ProgressEvent`
        objects, ``fraction`` rescaled to the dossier (0 to 0.85; the renderers take
        the rest).

    Raises
    ------
    TierslieuxError
        When the diagnostic or the directory cannot be computed (the questionnaire and
        the sites, optional, become notes instead).
    """
    minutes = request.minutes if request.minutes is not None else settings.catchment_minutes
    report = ProgressReporter(progress)
    notes: list[str] = []
    report("diagnostic", _("Diagnostic : usagers potentiels"), _STEPS["diagnostic"])
    diagnosis = diagnose(
        settings,
        inputs,
        DiagnoseRequest(territory=request.territory, minutes=minutes, demo=request.demo),
        progress=_scaled(progress, "diagnostic"),
    )
    report(
        "communautes", _("Communautés-base : structures des quatre étapes"), _STEPS["communautes"]
    )
    communities_request = CommunitiesRequest(
        territory=request.territory,
        minutes=minutes,
        sirene_etablissements=request.sirene_etablissements,
        sirene_unites_legales=request.sirene_unites_legales,
        rna=request.rna,
        tiers_lieux=request.tiers_lieux,
        gares=request.gares,
        mediation=request.mediation,
        acteurs=request.acteurs
        if request.acteurs is not None or not inputs.fictional
        else demo_files()["acteurs"],
        pnr=request.pnr,
    )
    communities = (
        run_communities(
            settings, communities_request, _scaled(progress, "communautes"), inputs=inputs
        )
        if request.structures is None
        else communities_from_structures(
            settings,
            inputs,
            communities_request,
            request.structures,
            progress=_scaled(progress, "communautes"),
        )
    )
    survey = None
    if request.survey:
        report(
            "questionnaire", _("Questionnaire : réponses du territoire"), _STEPS["questionnaire"]
        )
        try:
            survey = analyse_survey(
                settings,
                SurveyAnalysisRequest(
                    territory=request.territory,
                    minutes=minutes,
                    territory_name=request.territory_name,
                ),
                inputs=inputs,
            )
        except SchemaError as error:
            notes.append(_("Questionnaire : {reason}", reason=str(error)))
    sites = None
    if request.sites:
        report("sites", _("Sites d'expérimentation"), _STEPS["sites"])
        site_request = SitesRequest(
            territory=request.territory,
            count=request.count,
            minutes=minutes,
            objective=request.objective,
            mobpro=request.mobpro,
            tiers_lieux=request.tiers_lieux,
            time_limit=request.time_limit,
            demo=request.demo,
        )
        files = _structures_for_sites(communities)
        if files is None:
            notes.append(
                _(
                    "Sites : aucune structure des étapes 1, 2 ou 4 trouvée ; les sites sont "
                    "choisis sans exiger de communauté-base dans leur bassin."
                )
            )
        try:
            sites = choose_sites(
                settings,
                inputs,
                site_request,
                progress=_scaled(progress, "sites"),
                files=files or SiteFiles(),
            )
        except InfeasibleError as error:
            notes.append(_("Sites : {reason}", reason=str(error)))
    zone_names = dict(inputs.zonages.labels) if inputs.zonages is not None else {}
    return Dossier(
        territory=request.territory,
        territory_name=_display_name(diagnosis.territory_label, request),
        generated=dt.datetime.now(dt.UTC),
        diagnosis=diagnosis,
        communities=communities,
        survey=survey,
        sites=sites,
        outlines=_outlines(diagnosis),
        zone_names=zone_names,
        minutes=minutes,
        request=request,
        notes=tuple(notes),
    )


def _display_name(label: str, request: DossierRequest) -> str:
    """``label`` as the files give it, else the request's name when they name the
    territory only by its code."""
    generic = parse_territory(request.territory).label()
    if request.territory_name and label in ("", generic):
        return request.territory_name
    return label


def run_dossier(
    settings: Settings,
    request: DossierRequest,
    progress: ProgressCallback | None = None,
    *,
    inputs: LoadedInputs | None = None,
) -> Dossier:
    """Load the inputs (unless given), then :func:`assemble_dossier`."""
    if inputs is None:
        ProgressReporter(progress)("sources", _("Lecture des communes et des zonages"), 0.0)
        inputs = load_inputs(settings, request.files(), download_zonages=True)
    return assemble_dossier(settings, inputs, request, progress=progress)
