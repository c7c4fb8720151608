"""Reading is one step, computing another (issue 10): once loaded, nothing is re-read."""

from __future__ import annotations

import builtins
import shutil
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from sites_helpers import write_cget
from tierslieux.config import Settings
from tierslieux.errors import SchemaError
from tierslieux.pipeline import _sites_inputs as sites_inputs_module
from tierslieux.pipeline import communities as communities_module
from tierslieux.pipeline import demo_files
from tierslieux.pipeline import inputs as inputs_module
from tierslieux.pipeline import sites as sites_module
from tierslieux.pipeline.communities import (
    Communities,
    CommunitiesRequest,
    LoadedRegistries,
    build_communities,
    communities_reach,
    load_registries,
    run_communities,
)
from tierslieux.pipeline.diagnose import DiagnoseRequest, diagnose, run_diagnosis
from tierslieux.pipeline.inputs import InputFiles, load_inputs, load_teleworkable
from tierslieux.pipeline.sites import (
    SiteFiles,
    SitesRequest,
    choose_sites,
    load_site_files,
    run_sites,
)

#: Every reader the communities use case calls (forbidden once the registries are loaded).
COMMUNITY_LOADERS = (
    "load_sirene",
    "load_rna",
    "load_tiers_lieux",
    "load_gares",
    "load_mediation_numerique",
    "load_actors",
    "load_pnr",
    "load_networks",
    "load_rules",
    "read_groups",
    "find_input",
    "load_inputs",
    "territory_codes",
)
#: The readers of the other commands' files in the sites use case.
SITE_READERS = (
    "read_structures_table",
    "read_groups",
    "read_respondents",
    "read_csv_strings",
    "load_candidate_places",
    "load_inputs",
)
INPUT_LOADERS = ("load_communes", "load_zonages", "open_mobpro", "load_densite", "read_csv_strings")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(offline=True, cache_dir=tmp_path / "cache")


def _refuse(*_args: object, **_kw: object) -> None:
    raise AssertionError("a file is read after the loading step")


def forbid_reading(monkeypatch: pytest.MonkeyPatch, module: object, names: tuple[str, ...]) -> None:
    """Make the readers of ``module`` and Python's ``open`` fail."""
    for name in names:
        monkeypatch.setattr(module, name, _refuse)
    monkeypatch.setattr(builtins, "open", _refuse)
    monkeypatch.setattr(Path, "open", _refuse)
    monkeypatch.setattr(pd, "read_csv", _refuse)


def _same(left: Communities, right: Communities) -> None:
    pd.testing.assert_frame_equal(left.structures, right.structures)
    pd.testing.assert_frame_equal(left.communities, right.communities)
    assert left.notes == right.notes
    assert left.provenance == right.provenance
    assert (left.territory_label, left.minutes, left.neighbours) == (
        right.territory_label,
        right.minutes,
        right.neighbours,
    )


def _demo_request(folder: Path) -> CommunitiesRequest:
    """The demo territory with a list of actors, questionnaire groups and tiers-lieux."""
    folder.mkdir()
    demo = demo_files()
    for name in ("communes", "zonages"):
        shutil.copy(demo[name], folder / demo[name].name)
    actors = folder / "acteurs.csv"
    actors.write_text(
        "nom,categorie,code_commune,identifiant,themes\n"
        "Coop Démo,cae,00108,,ess_cooperation\n"
        "CC du Val (saisie),acteur_developpement,00101,000000001,\n",
        encoding="utf-8",
    )
    groups = folder / "groups.csv"
    groups.write_text("groupe,theme,membres,communes\n4,vie:garde,3,00101\n", encoding="utf-8")
    return CommunitiesRequest(
        territory="dep:00",
        communes=(folder / demo["communes"].name,),
        zonages=folder / demo["zonages"].name,
        minutes=1,
        acteurs=actors,
        groups=groups,
        tiers_lieux=write_cget(folder / "CGET_TiersLieux_2019.csv", "00102"),
    )


def test_build_communities_reads_nothing_once_registries_are_loaded(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    request = _demo_request(tmp_path / "files")
    expected = run_communities(settings, request)
    files = InputFiles(communes=request.communes, zonages=request.zonages)
    inputs = load_inputs(settings, files, mobpro=False)
    reach = communities_reach(settings, inputs, request)
    registries = load_registries(settings, inputs, request, reach)
    assert isinstance(registries, LoadedRegistries)
    assert registries.groups is not None
    assert len(registries.groups) == 1
    assert len(registries.places) == 1
    assert len(registries.actors) == 1
    assert len(registries.provenance) == 2  # the tiers-lieux and the actors
    shutil.rmtree(tmp_path / "files")  # the files are gone: only what was loaded is left
    forbid_reading(monkeypatch, communities_module, COMMUNITY_LOADERS)
    result = build_communities(settings, inputs, request, registries)
    _same(result, expected)
    assert "Coop Démo" in set(result.structures["nom"])
    row = result.communities.set_index("code").loc["00101"]
    assert row["groupes"] == "groupe 4 (3 membres)"


def test_build_communities_with_registers_and_networks_reads_nothing(
    tmp_path: Path, settings: Settings, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "files"
    shutil.copytree(data_dir, folder)
    request = CommunitiesRequest(
        territory="dep:05",
        communes=(folder / "communes" / "communes_extrait.csv",),
        sirene_etablissements=folder / "sirene" / "StockEtablissement_noms_diffusion.csv",
        sirene_unites_legales=folder / "sirene" / "StockUniteLegale_noms_diffusion.csv",
        rna=folder / "rna" / "rna_waldec_20250901_vie_quotidienne.csv",
        reseaux=folder / "actors" / "reseaux_cae.csv",
        mediation=folder / "places" / "20230517-lieux-de-mediation-numeriques_extrait.json",
    )
    expected = run_communities(settings, request)
    inputs = load_inputs(settings, InputFiles(communes=request.communes), mobpro=False)
    reach = communities_reach(settings, inputs, request)
    registries = load_registries(settings, inputs, request, reach)
    assert registries.sirene is not None
    assert registries.rna is not None
    assert registries.networks is not None
    shutil.rmtree(folder)
    shutil.rmtree(settings.cache_dir)
    forbid_reading(monkeypatch, communities_module, COMMUNITY_LOADERS)
    result = build_communities(settings, inputs, request, registries)
    _same(result, expected)
    assert any("1 membre(s) sur 3 retrouvé(s)" in n for n in result.notes)
    assert result.structures["categorie"].value_counts()["cae"] == 2


def test_build_communities_without_registries_still_loads_them(
    tmp_path: Path, settings: Settings
) -> None:
    request = _demo_request(tmp_path / "files")
    files = InputFiles(communes=request.communes, zonages=request.zonages)
    inputs = load_inputs(settings, files, mobpro=False)
    _same(build_communities(settings, inputs, request), run_communities(settings, request))


def test_reach_is_the_territory_and_the_outside_communes(settings: Settings) -> None:
    demo = demo_files()
    request = CommunitiesRequest(territory="dep:00", minutes=1)
    inputs = load_inputs(
        settings, InputFiles(communes=(demo["communes"],), zonages=demo["zonages"]), mobpro=False
    )
    reach = communities_reach(settings, inputs, request)
    assert reach.minutes == 1
    assert len(reach.codes) == 16
    assert reach.communes[: len(reach.codes)] == list(reach.codes)
    assert set(reach.catchments.pairs["origin"].astype(str)) <= set(reach.codes)


def test_diagnose_reads_no_teleworkable_file_once_loaded(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = tmp_path / "parts.csv"
    table.write_text("cs1,part,source\n3,0.9,Étude test\n5,0.1,Étude test\n", encoding="utf-8")
    request = DiagnoseRequest(territory="dep:00", demo=True, teleworkable=table)
    expected = run_diagnosis(settings, request)
    assert expected.teleworkable_shares == {"3": 0.9, "5": 0.1}
    assert expected.teleworkable_source == "Étude test"
    inputs = load_inputs(settings, request.files())
    shares = load_teleworkable(table)
    table.unlink()
    forbid_reading(monkeypatch, inputs_module, INPUT_LOADERS)
    result = diagnose(settings, inputs, request, teleworkable=shares)
    pd.testing.assert_frame_equal(result.communes, expected.communes)
    pd.testing.assert_frame_equal(result.catchments, expected.catchments)
    assert result.teleworkable_shares == expected.teleworkable_shares
    assert result.teleworkable_source == expected.teleworkable_source


def test_diagnose_without_loaded_shares_reads_the_request_table(
    tmp_path: Path, settings: Settings
) -> None:
    table = tmp_path / "parts.csv"
    table.write_text("cs1,part\n3,1.5\n", encoding="utf-8")
    inputs = load_inputs(settings, InputFiles(demo=True))
    with pytest.raises(SchemaError, match="ligne 2"):
        diagnose(settings, inputs, DiagnoseRequest(territory="dep:00", teleworkable=table))
    reference = diagnose(settings, inputs, DiagnoseRequest(territory="dep:00"))
    assert reference.teleworkable_shares == load_teleworkable(None).shares


def _site_files(folder: Path) -> dict[str, Path]:
    """Structures, groups, respondents, demand and candidate places of the demo."""
    folder.mkdir()
    texts = {
        "structures": "identifiant,nom,categorie,themes,code_commune\n"
        "S1,Coop Démo,cae,ess_cooperation,00108\nS2,Asso Démo,association_vie_quotidienne,"
        "vie:garde,00102\n",
        "groups": "groupe,theme,membres,communes\n4,vie:garde,3,00101\n",
        "respondents": "repondant,commune,jours_par_semaine\n1,00101,2\n2,00102,3\n3,,1\n",
        "demand": "code,demand\n00101,100\n00102,80\n00108,150\n00103,50\n",
        "candidates": "identifiant,nom,code_commune\nA,Mairie,00101\nB,Gare,00108\nC,Salle,00102\n",
    }
    paths = {}
    for name, text in texts.items():
        paths[name] = folder / f"{name}.csv"
        paths[name].write_text(text, encoding="utf-8")
    return paths


@pytest.mark.parametrize("objective", ["couverture", "co2"])
def test_choose_sites_reads_no_other_command_file_once_loaded(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch, objective: str
) -> None:
    paths = _site_files(tmp_path / "files")
    request = SitesRequest(territory="dep:00", count=2, minutes=20, demo=True, objective=objective)
    request = replace(request, **paths)  # type: ignore[arg-type]
    expected = run_sites(settings, request)
    inputs = load_inputs(settings, request.files(), mobpro=False)
    files = load_site_files(request)
    assert isinstance(files, SiteFiles)
    assert files.groups is not None
    assert len(files.groups) == 1
    shutil.rmtree(tmp_path / "files")
    forbid_reading(monkeypatch, sites_module, SITE_READERS)
    for name in ("read_groups", "read_respondents"):
        monkeypatch.setattr(sites_inputs_module, name, _refuse)
    result = choose_sites(settings, inputs, request, files=files)
    assert [s.index for s in result.result.sites] == [s.index for s in expected.result.sites]
    assert result.result.objective == pytest.approx(expected.result.objective)
    for name in ("sites", "coverage", "alternatives", "sensitivity", "communes"):
        pd.testing.assert_frame_equal(getattr(result, name), getattr(expected, name))
    assert result.notes == expected.notes
    assert set(result.sites["code"]) <= {"A", "B", "C", "00101"}
    assert "structures_communaute" in result.sites.columns  # the structures were used
