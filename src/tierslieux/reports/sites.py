"""Site selection: the HTML page with its map and the CSV tables, rendered in memory.

:func:`render_sites` returns the page, :func:`sites_files` every file as bytes,
:func:`write_sites` writes them into a folder, all or nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tierslieux.files import frame_spreadsheet_csv, write_output_files
from tierslieux.i18n import format_figure, format_number, format_percent
from tierslieux.i18n import gettext as _
from tierslieux.reports.labels import column_labels
from tierslieux.reports.maps import Marker, choropleth_svg
from tierslieux.reports.templates import render_page, safe_svg, split_notes

if TYPE_CHECKING:
    from pathlib import Path

    from tierslieux.pipeline.sites import SitesResult

__all__ = ["render_sites", "sites_files", "write_sites"]

#: Columns holding shares (0.04 = 4 %), shown as percentages.
_SHARES = frozenset({"perte_pct", "part_couverte", "ecart"})


def _table(frame: pd.DataFrame) -> dict[str, list[Any]]:
    """Columns and formatted text cells of ``frame`` for the ``table`` macro."""
    shares = [c in _SHARES for c in frame.columns]
    return {
        "columns": [str(c) for c in frame.columns],
        "rows": [
            [_cell(v, share=share) for v, share in zip(row, shares, strict=True)]
            for row in frame.itertuples(index=False)
        ],
    }


def _cell(value: object, *, share: bool = False) -> str:
    if value is None or value is pd.NA or value != value:  # noqa: PLR0124 (NaN)
        return ""
    if isinstance(value, bool | np.bool_):
        return _("oui") if value else _("non")
    if isinstance(value, int | float | np.integer | np.floating) and share:
        return format_percent(float(value), 1)
    if isinstance(value, float | np.floating):
        return format_figure(float(value))
    return str(value)


def render_sites(result: SitesResult) -> str:
    """Return the self-contained HTML page of the site selection (nothing is written)."""
    res = result.result
    frame = result.communes.assign(
        carte=result.communes["demande"].where(result.communes["couvert_par"] != "")
    )
    sites = result.sites
    svg = choropleth_svg(
        frame,
        "carte",
        result.geometries,
        label=_("Demande couverte par commune"),
        no_data_label=_("non couverte"),
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
        "({share}). Borne prouvée {bound} (écart {gap}). Solveur : {solver} — {reason}",
        n=len(res.sites),
        minutes=format_number(result.minutes),
        value=format_number(res.objective),
        unit=result.unit,
        total=format_number(res.total_demand),
        share=format_percent(res.objective / res.total_demand if res.total_demand else 0.0),
        bound=format_number(res.bound),
        gap=format_percent(res.gap, 2),
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
        sites=_table(result.sites),
        map_svg=safe_svg(svg),
        alternatives=_table(result.alternatives),
        sensitivity=_table(result.sensitivity),
        method=method_paragraphs(result),
        labels=column_labels(),
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

    ``sites.csv``, ``coverage.csv``, ``alternatives.csv``, ``sensitivity.csv``, with
    objective co2 ``hypotheses_co2.csv`` (take-up assumptions, their sources and the
    range), and ``sites.html``.  The tables are written for spreadsheets (text cells
    that look like formulas are guarded, :func:`tierslieux.files.frame_spreadsheet_csv`).
    """
    files = [
        ("sites.csv", frame_spreadsheet_csv(result.sites)),
        ("coverage.csv", frame_spreadsheet_csv(result.coverage)),
        ("alternatives.csv", frame_spreadsheet_csv(result.alternatives)),
        ("sensitivity.csv", frame_spreadsheet_csv(result.sensitivity)),
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
