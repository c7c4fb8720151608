"""Command ``tierslieux dossier``: the territory dossier (registered by cli/__init__.py)."""

from __future__ import annotations

from pathlib import Path  # noqa: TC003  (Typer reads the annotations at run time)
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from tierslieux.cli.common import (
    MAX_OPTION_MINUTES,
    MAX_OPTION_SECONDS,
    CacheOpt,
    CommunesOpt,
    DataOpt,
    DebugOpt,
    DemoOpt,
    DensiteOpt,
    LangOpt,
    MobproOpt,
    OfflineOpt,
    OsrmOpt,
    OutOpt,
    TravelTimesOpt,
    ZonagesOpt,
    check_count_option,
    check_positive_option,
    guarded,
    settings_from,
    shown,
)
from tierslieux.cli.common import err_console as _err
from tierslieux.cli.common import out_console as _out
from tierslieux.errors import TierslieuxError
from tierslieux.i18n import format_percent
from tierslieux.i18n import gettext as _

if TYPE_CHECKING:
    from tierslieux.model.types import ProgressEvent

__all__ = ["dossier"]


@guarded
def dossier(
    out: OutOpt,
    territory: Annotated[
        str,
        typer.Option(
            "--territory",
            help="region:93, dep:05, epci:<SIREN>, bv:<code>, communes:<fichier>.",
        ),
    ] = "",
    count: Annotated[
        int, typer.Option("--count", help="Nombre de sites d'expérimentation (défaut 3).")
    ] = 3,
    objective: Annotated[
        str, typer.Option("--objective", help="couverture (défaut) ou co2.")
    ] = "couverture",
    minutes: Annotated[
        float | None, typer.Option("--minutes", help="Seuil du bassin (défaut 20).")
    ] = None,
    data: DataOpt = None,
    communes: CommunesOpt = None,
    zonages: ZonagesOpt = None,
    densite: DensiteOpt = None,
    mobpro: MobproOpt = None,
    travel_times: TravelTimesOpt = None,
    osrm_url: OsrmOpt = None,
    sirene_etablissements: Annotated[
        Path | None,
        typer.Option("--sirene-etablissements", help="StockEtablissement (Parquet, CSV, zip)."),
    ] = None,
    sirene_unites_legales: Annotated[
        Path | None,
        typer.Option("--sirene-unites-legales", help="StockUniteLegale (Parquet, CSV, zip)."),
    ] = None,
    rna: Annotated[
        Path | None, typer.Option("--rna", help="Export RNA (rna_waldec_*.zip).")
    ] = None,
    tiers_lieux: Annotated[
        Path | None, typer.Option("--tiers-lieux", help="Recensement des tiers-lieux (CGET 2019).")
    ] = None,
    gares: Annotated[
        Path | None, typer.Option("--gares", help="Gares de voyageurs (SNCF).")
    ] = None,
    mediation: Annotated[
        Path | None, typer.Option("--mediation", help="Lieux de médiation numérique (JSON).")
    ] = None,
    acteurs: Annotated[
        Path | None, typer.Option("--acteurs", help="Acteurs ajoutés à la main (CSV).")
    ] = None,
    pnr: Annotated[
        Path | None, typer.Option("--pnr", help="Parcs naturels régionaux et leurs communes (CSV).")
    ] = None,
    no_survey: Annotated[
        bool,
        typer.Option("--sans-questionnaire", help="Ne pas analyser les réponses au questionnaire."),
    ] = False,
    no_sites: Annotated[
        bool, typer.Option("--sans-sites", help="Ne pas choisir de sites d'expérimentation.")
    ] = False,
    time_limit: Annotated[
        float, typer.Option("--time-limit", help="Secondes accordées au solveur exact.")
    ] = 60.0,
    demo: DemoOpt = False,
    cache_dir: CacheOpt = None,
    offline: OfflineOpt = False,
    lang: LangOpt = None,
    debug: DebugOpt = False,  # noqa: ARG001  (read by guarded)
) -> None:
    """Dossier du territoire : PDF à imprimer, classeur Excel, GeoPackage QGIS, uMap."""
    from tierslieux.pipeline.dossier import DossierRequest  # noqa: PLC0415
    from tierslieux.pipeline.jobs import run_cancellable  # noqa: PLC0415  (Ctrl-C in HiGHS)
    from tierslieux.reports.dossier import make_dossier  # noqa: PLC0415

    if not territory and not demo:
        raise TierslieuxError(_("Indiquez --territory (par exemple dep:05) ou --demo."))
    check_count_option(count, "--count")
    check_positive_option(minutes, "--minutes", maximum=MAX_OPTION_MINUTES)
    check_positive_option(time_limit, "--time-limit", maximum=MAX_OPTION_SECONDS)
    settings = settings_from(
        data_dir=data, cache_dir=cache_dir, offline=offline or demo, osrm_url=osrm_url, lang=lang
    )
    request = DossierRequest(
        territory=territory or "france",
        count=count,
        minutes=minutes,
        objective=objective,
        communes=tuple(communes or ()),
        zonages=zonages,
        densite=densite,
        mobpro=mobpro,
        travel_times=travel_times,
        sirene_etablissements=sirene_etablissements,
        sirene_unites_legales=sirene_unites_legales,
        rna=rna,
        tiers_lieux=tiers_lieux,
        gares=gares,
        mediation=mediation,
        acteurs=acteurs,
        pnr=pnr,
        survey=not no_survey,
        sites=not no_sites,
        time_limit=time_limit,
        demo=demo,
    )
    with _err.status(_("Préparation du dossier…")) as status:

        def show(event: ProgressEvent) -> None:
            done = f" ({format_percent(event.fraction)})" if event.fraction is not None else ""
            status.update(escape(event.message + done))

        written = run_cancellable(make_dossier, settings, request, out, progress=show)
    result = written.dossier
    for note in (*result.diagnosis.notes[:2], *result.notes):
        _err.print(f"[yellow]{shown(note)}[/]", highlight=False)
    _out.print(
        escape(
            _(
                "{territory} : dossier écrit dans {out} : {files}.",
                territory=result.territory_name,
                out=out,
                files=", ".join(f.name for f in written.files),
            )
        ),
        highlight=False,
    )
