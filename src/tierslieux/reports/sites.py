"""Site selection: the HTML page with its map and the CSV tables, rendered in memory.

:func:`render_sites` returns the page, :func:`sites_files` every file as bytes,
:func:`write_sites` writes them into a folder, all or nothing.
:func:`render_sites_geojson` is the document of the web application's map (communes
with their indicators, class breaks, numbered sites and their catchments, the format of
``web/static/README.md``) and :func:`sites_summary` the JSON-ready summary of a run
(figures, notes, readers' tables) its results page shows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tierslieux.files import frame_spreadsheet_csv, write_output_files
from tierslieux.i18n import format_figure, format_number, format_percent
from tierslieux.i18n import gettext as _
from tierslieux.model.codes import named_code, named_codes
from tierslieux.model.siting import format_gap
from tierslieux.reports.geojson import feature_collection, geojson_bytes
from tierslieux.reports.labels import (
    OBJECTIVE_COLUMNS,
    PEOPLE_COLUMNS,
    RATE_COLUMNS,
    column_labels,
    value_label,
)
from tierslieux.reports.maps import Marker, choropleth_svg, indicator_entry, map_legend
from tierslieux.reports.templates import render_page, safe_svg, split_notes

if TYPE_CHECKING:
    from collections.abc import Hashable, Mapping
    from pathlib import Path

    from tierslieux.pipeline.sites import SitesResult

__all__ = [
    "SITES_MAP_FILE",
    "objective_split",
    "render_sites",
    "render_sites_geojson",
    "sites_files",
    "sites_summary",
    "write_sites",
]

#: Name of the web map's document among the result files.
SITES_MAP_FILE = "sites_carte.geojson"

#: Columns holding shares (0.04 = 4 %), shown as percentages (the proven gap ``ecart``
#: as :func:`~tierslieux.model.siting.format_gap` says it).
_SHARES = frozenset({"perte_pct", "part_couverte"})


def _whole(result: SitesResult) -> frozenset[str]:
    """Columns read as whole numbers: counts of people, and the objective's columns
    when it counts people (coverage; tonnes of CO₂e keep their decimals)."""
    people = result.objective == "couverture"
    return PEOPLE_COLUMNS | RATE_COLUMNS | (OBJECTIVE_COLUMNS if people else frozenset())


def _table(frame: pd.DataFrame, whole: frozenset[str] = frozenset()) -> dict[str, list[Any]]:
    """Columns and formatted text cells of ``frame`` for the ``table`` macro (coded
    values in words, the columns of ``whole`` as whole numbers)."""
    columns = [str(c) for c in frame.columns]
    return {
        "columns": columns,
        "rows": [
            [
                _cell(value_label(c, v), share=c in _SHARES, whole=c in whole, gap=c == "ecart")
                for c, v in zip(columns, row, strict=True)
            ]
            for row in frame.itertuples(index=False)
        ],
    }


def _readers_sites(frame: pd.DataFrame, result: SitesResult) -> pd.DataFrame:
    """A table of sites or candidates as people read it on a page (the CSV files keep
    every column): no coordinates (rounded, they locate nothing; the map shows the
    places), no column empty on every row, and the host commune by its name in place
    of its code — dropped when each site is itself a commune (its code is the site's
    code, in the table already).
    """
    out = frame.drop(columns=["latitude", "longitude"], errors="ignore")
    if len(out):
        # A column empty on every row (no directory: no base community, no themes) says
        # nothing on a page; the notes say why.
        blank = out.isna() | out.astype(str).apply(lambda column: column.str.strip() == "")
        out = out.loc[:, ~blank.all()]
    if "code_commune" not in out.columns or "code" not in out.columns:
        return out
    hosts = out["code_commune"].astype(str)
    if (hosts == out["code"].astype(str)).all():
        return out.drop(columns=["code_commune"])
    names = dict(zip(result.communes["code"].astype(str), result.communes["nom"], strict=True))
    at = list(out.columns).index("code_commune")
    commune = hosts.map(lambda code: named_code(code, names))
    return out.drop(columns=["code_commune"]).assign(commune=commune)[
        [*out.columns[:at], "commune", *out.columns[at + 1 :]]
    ]


def _named_sites(frame: pd.DataFrame, result: SitesResult) -> pd.DataFrame:
    """A table whose ``sites`` column holds sets of sites (codes joined by « ; », as
    the CSV keeps them) as people read them: « Nom (code), Nom (code) », with the names
    of every candidate and loaded commune (:attr:`SitesResult.names`); a code of no
    known name stays the code."""
    if "sites" not in frame.columns:
        return frame

    def spelled(value: object) -> object:
        if not isinstance(value, str):
            return value
        return named_codes((c.strip() for c in value.split(";") if c.strip()), result.names)

    named = frame.assign(sites=frame["sites"].map(spelled))
    if "remplacant" in frame.columns:
        named["remplacant"] = pd.Series(_named_replacements(frame, result), index=frame.index)
    return named


def _named_replacements(frame: pd.DataFrame, result: SitesResult) -> list[object]:
    """The ``remplacant`` cells of the alternatives (« code nom;code nom » in the CSV)
    as the ``sites`` cells read: « Nom (code), … ».  The sites entering are those of the
    row's set that the result did not choose (how the column is made), so a candidate's
    identifier holding a space is never split."""
    chosen = set(result.sites["code"].astype(str))
    cells: list[object] = []
    for sites, replacing in zip(frame["sites"], frame["remplacant"], strict=True):
        if not isinstance(sites, str) or not isinstance(replacing, str) or not replacing:
            cells.append(replacing)
            continue
        parts = replacing.split(";")
        entering = [c for c in (c.strip() for c in sites.split(";")) if c and c not in chosen]
        # In the CSV's order (``code nom`` parts).
        entering.sort(
            key=lambda c: next((i for i, p in enumerate(parts) if p.startswith(f"{c} ")), 0)
        )
        cells.append(named_codes(entering, result.names))
    return cells


def _cell(value: object, *, share: bool = False, whole: bool = False, gap: bool = False) -> str:
    if value is None or value is pd.NA or value != value:  # noqa: PLR0124 (NaN)
        return ""
    if isinstance(value, bool | np.bool_):
        return _("oui") if value else _("non")
    if isinstance(value, int | float | np.integer | np.floating) and gap:
        return format_gap(float(value))
    if isinstance(value, int | float | np.integer | np.floating) and share:
        return format_percent(float(value), 1)
    if isinstance(value, float | np.floating):
        return format_number(float(value)) if whole else format_figure(float(value))
    return str(value)


def _covered_demand(demand: pd.Series, covered: pd.Series) -> pd.Series:
    """Each commune's demand covered by the sites: its demand when a site covers it, 0
    when none does (it has data: nothing of it is covered); missing only where the
    demand itself is (the « Demande couverte » maps' « Sans donnée »)."""
    return demand.mask(~covered.to_numpy() & demand.notna().to_numpy(), 0.0)


def _not_covered_label() -> str:
    """The legend's name of the class 0 of the « Demande couverte » maps."""
    return _("0 (non couverte)")


def render_sites(result: SitesResult) -> str:
    """Return the self-contained HTML page of the site selection (nothing is written)."""
    res = result.result
    demand = result.communes["demande"].astype(float)
    frame = result.communes.assign(
        carte=_covered_demand(demand, result.communes["couvert_par"] != "")
    )
    sites = result.sites
    svg = choropleth_svg(
        frame,
        "carte",
        result.geometries,
        label=_("Demande couverte par commune"),
        no_data_label=_("Sans donnée"),
        zero_label=_not_covered_label(),
        markers=[
            Marker(
                lat,
                lon,
                str(rank),
                _("Site {rank} : {name} ({code})", rank=rank, name=name, code=code),
            )
            for rank, code, name, lat, lon in zip(
                sites["rang"],
                sites["code"],
                sites["nom"],
                sites["latitude"].astype(float),
                sites["longitude"].astype(float),
                strict=True,
            )
        ],
    )
    co2 = None
    if result.co2 is not None:
        tonnes = result.co2.tonnes
        co2 = {
            "text": _(
                "CO₂ évité : {central} t CO₂e par an (fourchette {low} à {high} t), soit "
                "en moyenne {day} kg par jour ouvré.",
                central=format_number(tonnes.central, 1),
                low=format_number(tonnes.low, 1),
                high=format_number(tonnes.high, 1),
                day=format_number(result.co2.kg_per_day),
            ),
            "assumptions": _table(result.co2.assumptions),
        }
    summary = _(
        "{n} site(s), bassin de {minutes} minutes : {value} {unit} sur {total} possibles "
        "({share}).{split} Borne prouvée {bound} (écart {gap}). Solveur : {solver} — {reason}",
        n=len(res.sites),
        minutes=format_number(result.minutes),
        value=format_number(res.objective),
        unit=result.unit,
        total=format_number(res.total_demand),
        share=format_percent(res.objective / res.total_demand if res.total_demand else 0.0),
        split=f" {objective_split(result)}" if objective_split(result) else "",
        bound=format_number(res.bound),
        gap=format_gap(res.gap),
        solver=res.solver,
        reason=res.reason,
    )
    warnings, notes = split_notes(result.notes)
    return render_page(
        "sites.html",
        r=result,
        warnings=warnings,
        notes=notes,
        summary=summary,
        co2=co2,
        sites=_table(_readers_sites(result.sites, result), _whole(result)),
        map_svg=safe_svg(svg),
        alternatives=_table(_named_sites(result.alternatives, result), _whole(result)),
        sensitivity=_table(_named_sites(result.sensitivity, result), _whole(result)),
        method=method_paragraphs(result),
        labels=column_labels(),
    )


def objective_split(result: SitesResult) -> str:
    """« Dont … dans les communes du territoire et … dans N commune(s) voisine(s) » when
    the communes just outside the territory count in the objective; else ``""``.

    The one sentence of the command line, ``sites.html`` and the web page: the
    objective (the number they all give) is split, never replaced by another count.
    """
    if not result.outside_covered:
        return ""
    digits = 0 if result.objective == "couverture" else 1
    # Rounded so that the two parts add up to the objective as it is printed.
    outside = round(result.objective_outside, digits)
    inside = round(result.result.objective, digits) - outside
    return _(
        "Dont {inside} dans les communes du territoire et {outside} dans {n} commune(s) "
        "voisine(s) à portée des sites.",
        inside=format_number(inside, digits),
        outside=format_number(outside, digits),
        n=result.outside_covered,
    )


def method_paragraphs(result: SitesResult) -> list[str]:
    """Plain-French reading guide for elected officials: what was optimised and how."""
    objective = (
        _(
            "La valeur d'un site est le CO₂ des trajets en voiture évités en une année, en "
            "tonnes : les kilomètres que les navetteurs éligibles ne feraient plus en "
            "travaillant au site plutôt qu'à leur lieu de travail, multipliés par la part "
            "de ceux qui viendraient vraiment, les jours par semaine où ils viendraient et "
            "les jours ouvrés de l'année (estimation centrale ; fourchette basse et haute "
            "dans le tableau des hypothèses, avec leurs sources). Ces hypothèses ne changent "
            "pas le choix des sites, seulement les tonnes annoncées."
        )
        if result.objective == "co2"
        else _(
            "La valeur d'un site est le nombre d'usagers potentiels (estimés depuis le "
            "recensement, ou fournis) qui habitent à moins de {m} minutes de lui ; une "
            "commune couverte par deux sites ne compte qu'une fois.",
            m=format_number(result.minutes),
        )
    )
    return [
        objective,
        _(
            "Les sites sont choisis ensemble, pas un par un : le modèle cherche la "
            "combinaison de {k} sites qui maximise la valeur totale, sous les contraintes "
            "demandées (une communauté-base dans le bassin de chaque site, des thèmes "
            "différents d'un site à l'autre, les tiers-lieux existants gardés ou tenus à "
            "distance, un minimum par intercommunalité). « Écart prouvé » dit de combien, "
            "au plus, une autre combinaison pourrait faire mieux : 0 % signifie qu'aucune "
            "ne fait mieux.",
            k=result.count,
        ),
        _(
            "« Gain marginal » : ce que chaque site ajoute aux sites mieux classés ; « perte "
            "si retiré » : ce que l'on perd en l'enlevant seul. Le tableau des alternatives "
            "répond à « pourquoi ici et pas là ? » : pour chaque site, la meilleure "
            "combinaison sans lui, son remplaçant et ce qu'elle coûte. Le tableau de "
            "sensibilité montre le résultat à 15, 20 et 30 minutes et avec un site de "
            "moins ou de plus."
        ),
    ]


def sites_files(result: SitesResult) -> list[tuple[str, bytes]]:
    """Return every output file of the site selection as ``(name, bytes)``, in memory.

    ``sites.csv``, ``coverage.csv``, ``alternatives.csv``, ``sensitivity.csv``,
    ``one_more_site.csv`` (what one more site would add at each candidate),
    ``sites_carte.geojson`` (:func:`render_sites_geojson`), with
    objective co2 ``hypotheses_co2.csv`` (take-up assumptions, their sources and the
    range), and ``sites.html``.  The tables are written for spreadsheets (text cells
    that look like formulas are guarded, :func:`tierslieux.files.frame_spreadsheet_csv`).
    """
    files = [
        ("sites.csv", frame_spreadsheet_csv(result.sites)),
        ("coverage.csv", frame_spreadsheet_csv(result.coverage)),
        ("alternatives.csv", frame_spreadsheet_csv(result.alternatives)),
        ("sensitivity.csv", frame_spreadsheet_csv(result.sensitivity)),
        ("one_more_site.csv", frame_spreadsheet_csv(result.one_more)),
        (SITES_MAP_FILE, render_sites_geojson(result)),
    ]
    if result.co2 is not None:
        files.append(("hypotheses_co2.csv", frame_spreadsheet_csv(result.co2.assumptions)))
    files.append(("sites.html", render_sites(result).encode("utf-8")))
    return files


def write_sites(result: SitesResult, out: Path) -> list[Path]:
    """Render the files of :func:`sites_files` then write them into ``out`` (all or
    nothing); return their paths, sorted by name.
    """
    return sorted(write_output_files(out, sites_files(result), owner="sites"))


# -- web application: the map document and the run's summary ------------------------


def _site_details(
    row: Mapping[Hashable, Any], unit: str, whole: frozenset[str] = frozenset()
) -> list[dict[str, str]]:
    """Readers' lines of a site's catchment card: value, base community, themes."""
    lines = [
        {
            "libelle": _("Valeur ({unit})", unit=unit),
            "valeur": _cell(row["valeur"], whole="valeur" in whole),
        }
    ]
    for key, label in (
        ("communaute_base", _("Communauté-base")),
        ("structures_communaute", _("Structures de la communauté")),
        ("groupes", _("Groupes du questionnaire")),
        ("partenaires", _("Partenaires")),
        ("theme", _("Thème")),
        ("tiers_lieux_existants", _("Tiers-lieux existants")),
    ):
        text = _cell(value_label(key, row.get(key)))
        if text:
            lines.append({"libelle": label, "valeur": text})
    return lines


def render_sites_geojson(result: SitesResult) -> bytes:
    """Return the web map's document of a site selection (``sites_carte.geojson``).

    One feature per commune of the territory, properties ``code``, ``nom``,
    ``demande`` (the objective's weight), ``demande_couverte`` (its demand when a site
    covers it, 0 otherwise: :func:`_covered_demand`),
    ``gain_site_supplementaire`` (the most one more site in the commune would add) and
    ``site`` (rank of the site covering it, the best ranked); foreign members
    ``indicateurs_carte`` (label and class breaks of each indicator), ``sites_carte``
    (numbered sites: rank, code, name, commune, coordinates, label) and
    ``bassins_carte`` (per commune covered, the catchment of its site: ``nom``,
    ``communes``, ``minutes`` and reader's ``lignes``).
    """
    communes = result.communes
    sites = result.sites
    coverage = result.coverage[~result.coverage["hors_territoire"].astype(bool)]
    rank = dict(zip(sites["code"].astype(str), sites["rang"].astype(int), strict=True))
    site_of = (
        coverage.assign(rang=coverage["code_site"].astype(str).map(rank))
        .groupby("code_commune")["rang"]
        .min()
    )
    one_more = result.one_more
    best = (
        one_more.groupby("code_commune")["gain_site_supplementaire"].max()
        if len(one_more)
        else pd.Series(dtype="float64")
    )
    codes = communes["code"].astype(str)
    frame = pd.DataFrame(
        {
            "code": codes,
            "nom": communes["nom"],
            "demande": communes["demande"].astype(float).round(1),
            "demande_couverte": _covered_demand(
                communes["demande"].astype(float), codes.isin(set(site_of.index))
            ).round(1),
            "gain_site_supplementaire": codes.map(best).astype(float).round(1),
            "site": codes.map(site_of).astype("Int64"),
            "latitude": communes["latitude"],
            "longitude": communes["longitude"],
        }
    )
    indicators = [
        indicator_entry(
            "gain_site_supplementaire",
            _("Ce qu'un site de plus ajouterait ici ({unit})", unit=result.unit),
            list(frame["gain_site_supplementaire"]),
        ),
        indicator_entry(
            "demande_couverte",
            _("Demande couverte ({unit})", unit=result.unit),
            list(frame["demande_couverte"]),
            zero_label=_not_covered_label(),
        ),
        indicator_entry("demande", _("Demande par commune"), list(frame["demande"])),
    ]
    markers = []
    catchments: dict[str, dict[str, Any]] = {}
    members = coverage.groupby("code_site")["code_commune"].agg(lambda s: sorted(map(str, s)))
    for row in sites.to_dict(orient="records"):
        code = str(row["code"])
        title = _("Site {rank} : {name} ({code})", rank=row["rang"], name=row["nom"], code=code)
        markers.append(
            {
                "rang": int(row["rang"]),
                "code": code,
                "nom": str(row["nom"]),
                "code_commune": str(row["code_commune"]),
                "latitude": float(row["latitude"]),
                "longitude": float(row["longitude"]),
                "titre": title,
            }
        )
        inside: list[str] = members.get(code, [str(row["code_commune"])])
        document = {
            "nom": _("site {rank}, {name}", rank=row["rang"], name=row["nom"]),
            "communes": inside,
            "minutes": result.minutes,
            "lignes": _site_details(row, result.unit, _whole(result)),
        }
        for commune in inside:
            if site_of.get(commune) == row["rang"]:
                catchments[commune] = document
    collection = feature_collection(
        frame.drop(columns=["latitude", "longitude"]).assign(
            latitude=frame["latitude"], longitude=frame["longitude"]
        ),
        geometries=result.geometries,
        properties=lambda row: {k: v for k, v in row.items() if k not in {"latitude", "longitude"}},
        extra={
            "indicateurs_carte": map_legend(indicators, result.minutes),
            "sites_carte": markers,
            "bassins_carte": catchments,
        },
    )
    return geojson_bytes(collection)


def sites_summary(result: SitesResult) -> dict[str, Any]:
    """The JSON-ready summary of a site selection, for the results page and comparisons.

    Figures (``objectif``, ``demande_totale``, ``usagers_couverts`` — the objective
    when it counts people —, its parts ``objectif_territoire`` and
    ``objectif_voisines``, ``nb_sites``, ``nb_communes_couvertes`` of the territory,
    ``ecart``...), the texts (``resume``, ``notes``,
    ``avertissements``, ``methode``, ``co2``) and the readers' tables (``tables``:
    columns and formatted cells of the sites, alternatives, sensitivity and the
    candidates ranked by what one more site would add).
    """
    res = result.result
    warnings, notes = split_notes(result.notes)
    covered = result.coverage[~result.coverage["hors_territoire"].astype(bool)]
    one_more = result.one_more
    ranked = (
        one_more[one_more["admissible"]]
        .sort_values("gain_site_supplementaire", ascending=False, kind="stable")
        .loc[:, ["code", "nom", "code_commune", "gain_site_supplementaire"]]
        .head(20)
        if len(one_more)
        else pd.DataFrame()
    )
    co2 = None
    if result.co2 is not None:
        tonnes = result.co2.tonnes
        co2 = {
            "centrale": tonnes.central,
            "basse": tonnes.low,
            "haute": tonnes.high,
            "kg_par_jour": result.co2.kg_per_day,
            "hypotheses": _table(result.co2.assumptions),
        }
    return {
        "territoire": result.territory_label,
        "objectif_choisi": result.objective,
        "unite": result.unit,
        "minutes": result.minutes,
        "nb_sites_demandes": result.count,
        "nb_sites": len(res.sites),
        "sites": [str(c) for c in result.sites["code"]],
        "objectif": res.objective,
        "demande_totale": res.total_demand,
        "part": res.objective / res.total_demand if res.total_demand else 0.0,
        "borne": res.bound,
        "ecart": res.gap,
        "solveur": res.solver,
        "raison": res.reason,
        # The objective when it counts people (the same number as the command line's).
        "usagers_couverts": res.objective if result.objective == "couverture" else None,
        "objectif_territoire": result.objective_inside,
        "objectif_voisines": result.objective_outside,
        "nb_communes_voisines_couvertes": result.outside_covered,
        "repartition": objective_split(result),
        "nb_communes_couvertes": int(covered["code_commune"].nunique()),
        "nb_communes": len(result.communes),
        "fictif": result.fictional,
        "avertissements": warnings,
        "notes": notes,
        "methode": method_paragraphs(result),
        "co2": co2,
        "tables": {
            "sites": _table(_readers_sites(result.sites, result), _whole(result)),
            "alternatives": _table(_named_sites(result.alternatives, result), _whole(result)),
            "sensibilite": _table(_named_sites(result.sensitivity, result), _whole(result)),
            "un_site_de_plus": _table(_readers_sites(ranked, result), _whole(result)),
        },
    }
