"""Catchments cross the territory's border (hand-made Upaix / Laragne / Sisteron)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from sites_helpers import border_mobpro
from tierslieux.cli import app
from tierslieux.config import Settings
from tierslieux.errors import InfeasibleError
from tierslieux.pipeline import (
    CommunitiesRequest,
    DiagnoseRequest,
    run_communities,
    run_diagnosis,
)
from tierslieux.pipeline.inputs import neighbours_note
from tierslieux.pipeline.sites import SitesRequest, run_sites
from tierslieux.reports.diagnosis import render_report, write_diagnosis

if TYPE_CHECKING:
    from pathlib import Path

    from tierslieux.pipeline import Diagnosis


def _diagnose(data_dir: Path, tmp_path: Path, **options: Any) -> Diagnosis:
    folder = data_dir / "frontiere"
    settings = Settings(cache_dir=tmp_path / "cache", offline=True)
    request = DiagnoseRequest(
        territory="dep:05",
        communes=(folder / "communes_frontiere.csv",),
        zonages=folder / "table_supracom_2024_frontiere.csv",
        mobpro=folder / "FD_MOBPRO_2021_frontiere.csv",
    )
    return run_diagnosis(settings, replace(request, **options))


def _row(diagnosis: Diagnosis, code: str) -> dict[str, Any]:
    rows = diagnosis.catchments[diagnosis.catchments["code"] == code].to_dict("records")
    assert len(rows) == 1
    return {str(k): v for k, v in rows[0].items()}


def test_catchment_includes_the_neighbour_across_the_border(data_dir: Path, tmp_path: Path) -> None:
    diagnosis = _diagnose(data_dir, tmp_path)
    # The territory's own table lists only its communes.
    assert sorted(diagnosis.communes["code"]) == ["05070", "05173"]
    assert sorted(diagnosis.catchments["code"]) == ["05070", "05173"]
    upaix = _row(diagnosis, "05173")
    # Upaix, Laragne and Sisteron (04, about 16 minutes away); Digne is too far.
    assert upaix["nb_communes"] == 3
    assert upaix["nb_communes_hors_territoire"] == 1
    # Sisteron's residents (30 + 2 weighted workers) count in Upaix's catchment.
    own = diagnosis.communes.set_index("code")["actifs_occupes"]
    assert upaix["actifs_occupes"] == pytest.approx(own["05173"] + own["05070"] + 32.0)
    # Laragne and Sisteron are more than 20 minutes apart: the centre definition says so.
    assert upaix["definition_bassin"] == "centre"
    assert 20 < upaix["diametre_minutes"] < 40
    assert diagnosis.neighbours == ("04209",)
    assert any("04209" in note for note in diagnosis.notes)


def test_switch_keeps_catchments_inside_the_territory(data_dir: Path, tmp_path: Path) -> None:
    diagnosis = _diagnose(data_dir, tmp_path, neighbours=False)
    upaix = _row(diagnosis, "05173")
    assert upaix["nb_communes"] == 2
    assert upaix["nb_communes_hors_territoire"] == 0
    assert diagnosis.neighbours == ()


def test_mutual_definition_keeps_members_within_twenty_minutes(
    data_dir: Path, tmp_path: Path
) -> None:
    diagnosis = _diagnose(data_dir, tmp_path, definition="mutuelle")
    upaix = _row(diagnosis, "05173")
    # Laragne (nearer) is kept, then Sisteron is more than 20 minutes from Laragne.
    assert upaix["nb_communes"] == 2
    assert upaix["definition_bassin"] == "mutuelle"
    assert upaix["diametre_minutes"] <= 20
    html = render_report(diagnosis)
    assert "bassin mutuel" in html
    assert "les unes des autres" in html


def test_partial_bassin_is_marked_and_outputs_say_the_definition(
    data_dir: Path, tmp_path: Path
) -> None:
    diagnosis = _diagnose(data_dir, tmp_path)
    assert diagnosis.bassins is not None
    bassins = diagnosis.bassins.set_index("code")
    # Upaix belongs to the bassin de vie of Sisteron (27 communes, 1 in the territory).
    assert bassins.loc["04209", "nb_communes"] == 1
    assert bassins.loc["04209", "nb_communes_bassin"] == 27
    assert bool(bassins.loc["04209", "bassin_partiel"])
    assert not bool(bassins.loc["05070", "bassin_partiel"])
    out = tmp_path / "out"
    write_diagnosis(diagnosis, out)
    sources = json.loads((out / "sources.json").read_text(encoding="utf-8"))
    assert sources["parametres"]["definition_bassin"] == "centre"
    assert sources["parametres"]["communes_voisines"] == ["04209"]
    assert "diametre_minutes" in (out / "catchments.csv").read_text(encoding="utf-8")
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "partiel" in html
    assert "à au plus 20 minutes les unes des autres" not in html


def test_outside_commune_without_workers_is_said(data_dir: Path, tmp_path: Path) -> None:
    # A census file limited to the territory: Sisteron has no resident in it.
    source = data_dir / "frontiere" / "FD_MOBPRO_2021_frontiere.csv"
    lines = source.read_text(encoding="utf-8").splitlines()
    limited = tmp_path / "FD_MOBPRO_2021_limite.csv"
    limited.write_text(
        "\n".join([lines[0], *(line for line in lines[1:] if line.startswith("05"))]) + "\n",
        encoding="utf-8",
    )
    diagnosis = _diagnose(data_dir, tmp_path, mobpro=limited)
    assert any("1 des communes voisines n'ont aucun actif" in n for n in diagnosis.notes)
    complete = _diagnose(data_dir, tmp_path)
    assert not any("aucun actif" in note for note in complete.notes)


@pytest.mark.usefixtures("cli_labels")
def test_bad_definition_is_refused(data_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(Exception, match="--definition-bassin"):
        _diagnose(data_dir, tmp_path, definition="cercle")


def test_communities_count_structures_just_outside(data_dir: Path, tmp_path: Path) -> None:
    folder = data_dir / "frontiere"
    actors = tmp_path / "acteurs.csv"
    actors.write_text(
        "nom,categorie,code_commune\n"
        "Coopérative de Sisteron,cae,04209\n"
        "Association de Digne,association_teleactivites,04070\n",
        encoding="utf-8",
    )
    settings = Settings(cache_dir=tmp_path / "cache", offline=True)

    def run(*, neighbours: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
        result = run_communities(
            settings,
            CommunitiesRequest(
                territory="dep:05",
                communes=(folder / "communes_frontiere.csv",),
                zonages=folder / "table_supracom_2024_frontiere.csv",
                acteurs=actors,
                neighbours=neighbours,
            ),
        )
        return result.structures, result.communities.set_index("code")

    structures, communities = run(neighbours=True)
    assert list(
        structures.loc[structures["nom"] == "Coopérative de Sisteron", "hors_territoire"]
    ) == [True]
    assert "Association de Digne" not in set(structures["nom"])
    assert communities.loc["05173", "cae"] == 1
    assert communities.loc["05070", "cae"] == 0
    assert communities.loc["05173", "definition_bassin"] == "centre"
    assert (communities.loc[["05173"], "diametre_minutes"] > 20).all()
    _structures, closed = run(neighbours=False)
    assert closed.loc["05173", "cae"] == 0


def test_cli_options_reach_the_outputs(data_dir: Path, tmp_path: Path) -> None:
    folder = data_dir / "frontiere"
    base = [
        "diagnose",
        "--territory",
        "dep:05",
        "--communes",
        str(folder / "communes_frontiere.csv"),
        "--zonages",
        str(folder / "table_supracom_2024_frontiere.csv"),
        "--mobpro",
        str(folder / "FD_MOBPRO_2021_frontiere.csv"),
        "--offline",
    ]
    env = {"TIERSLIEUX_CACHE_DIR": str(tmp_path / "cache")}
    out = tmp_path / "mutuel"
    result = CliRunner().invoke(
        app,
        [*base, "--definition-bassin", "mutuelle", "--sans-communes-voisines", "--out", str(out)],
        env=env,
    )
    assert result.exit_code == 0, result.output
    catchments = pd.read_csv(out / "catchments.csv", dtype={"code": str}).set_index("code")
    assert set(catchments["definition_bassin"]) == {"mutuelle"}
    assert catchments.loc["05173", "nb_communes_hors_territoire"] == 0
    bad = CliRunner().invoke(
        app, [*base, "--definition-bassin", "cercle", "--out", str(tmp_path / "x")], env=env
    )
    assert bad.exit_code != 0
    assert "Définition du bassin « cercle » inconnue" in bad.output
    assert "Traceback" not in bad.output


def _sites_request(folder: Path, **options: Any) -> SitesRequest:
    """One site on the Hautes-Alpes side of the hand-made border."""
    request = SitesRequest(
        territory="dep:05",
        count=1,
        communes=(folder / "communes_frontiere.csv",),
        zonages=folder / "table_supracom_2024_frontiere.csv",
    )
    return replace(request, **options)


def test_sites_count_a_base_community_just_outside(data_dir: Path, tmp_path: Path) -> None:
    folder = data_dir / "frontiere"
    structures = tmp_path / "structures.csv"
    structures.write_text(
        "identifiant,nom,categorie,themes,code_commune\n"
        "coop-sisteron,Coopérative de Sisteron,cae,,04209\n",
        encoding="utf-8",
    )
    demand = tmp_path / "demande.csv"
    demand.write_text("code,demand\n05173,10\n05070,30\n", encoding="utf-8")
    settings = Settings(cache_dir=tmp_path / "cache", offline=True)
    request = _sites_request(folder, structures=structures, demand=demand, distinct_themes=False)
    result = run_sites(settings, request)
    # Only Upaix reaches the cooperative of Sisteron (outside the territory).
    assert list(result.sites["code"]) == ["05173"]
    assert "Coopérative de Sisteron" in result.sites["structures_communaute"].iloc[0]
    # Candidates and demand stay in the territory.
    assert set(result.communes["code"]) == {"05173", "05070"}
    with pytest.raises(InfeasibleError):
        run_sites(settings, replace(request, neighbours=False))


def test_neighbours_note_without_any_neighbour_says_why() -> None:
    note = neighbours_note([], 20)
    assert note.startswith("Aucune commune hors du territoire")
    assert "fichier plus large" in note
    assert "0 commune" not in note


@pytest.mark.usefixtures("cli_labels")
def test_sites_count_the_demand_just_outside(data_dir: Path, tmp_path: Path) -> None:
    folder = data_dir / "frontiere"
    # The fixture plus 8 independent workers living in Sisteron (potential users).
    mobpro = border_mobpro(folder, tmp_path)
    settings = Settings(cache_dir=tmp_path / "cache", offline=True)
    request = _sites_request(folder, mobpro=mobpro)
    # The potential users of Sisteron, read by the diagnosis with the same sources.
    beyond = _diagnose(data_dir, tmp_path, mobpro=mobpro).neighbour_communes
    assert beyond is not None
    assert list(beyond["code"]) == ["04209"]
    sisteron = float(beyond.set_index("code").loc["04209", "potentiel"])
    assert sisteron > 0
    result = run_sites(settings, request)
    coverage = result.coverage
    # Upaix reaches Sisteron (about 16 minutes) and wins with its demand.
    assert list(result.sites["code"]) == ["05173"]
    outside = coverage[coverage["hors_territoire"]]
    assert list(outside["code_commune"]) == ["04209"]
    assert float(outside["demande"].iloc[0]) == pytest.approx(sisteron)
    assert result.result.objective == pytest.approx(float(coverage["demande"].sum()))
    assert any("04209" in n and "hors du territoire" in n for n in result.notes)
    # The communes table stays the territory's.
    assert set(result.communes["code"]) == {"05173", "05070"}

    alone = run_sites(settings, replace(request, neighbours=False))
    assert not alone.coverage["hors_territoire"].any()
    assert "04209" not in set(alone.coverage["code_commune"])
    assert alone.result.objective == pytest.approx(result.result.objective - sisteron)
    assert any("--sans-communes-voisines" in n for n in alone.notes)
    assert result.result.total_demand == pytest.approx(alone.result.total_demand + sisteron)
    # Within 10 minutes no candidate reaches Sisteron: its users are no demand.
    near = run_sites(settings, replace(request, minutes=10))
    assert not near.coverage["hors_territoire"].any()
    assert near.result.total_demand == pytest.approx(alone.result.total_demand)
