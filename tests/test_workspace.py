"""Loaded inputs and the analytical workspace (issue 10): hand-written files and the demo."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from tierslieux.cli import app
from tierslieux.config import Settings
from tierslieux.errors import SchemaError, SourceError
from tierslieux.pipeline import inputs as inputs_module
from tierslieux.pipeline.diagnose import DiagnoseRequest, diagnose, run_diagnosis
from tierslieux.pipeline.inputs import InputFiles, LoadedInputs, load_inputs
from tierslieux.pipeline.sites import SitesRequest, run_sites
from tierslieux.pipeline.survey import SurveyAnalysisRequest, SurveyContext, analyse_survey
from tierslieux.pipeline.workspace import MANIFEST, Workspace, build_workspace

runner = CliRunner()

ANSWERS = {
    "commune_residence": "Bourg-Fictif (FICTIF)",
    "statut": "independant",
    "part_ordinateur": "Plus des trois quarts",
    "envies": "proche;Un lieu convivial",
    "consentement": "oui",
}

#: The source loaders of pipeline.inputs: a test counts or forbids their calls.
LOADERS = ("load_communes", "load_zonages", "open_mobpro", "load_densite", "load_travel_times")


@pytest.fixture
def demo_workspace(settings: Settings, tmp_path: Path) -> Workspace:
    return build_workspace(settings, tmp_path / "ws", InputFiles(demo=True))


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Count the calls of every source loader used by load_inputs."""
    counts: Counter[str] = Counter()
    for name in LOADERS:
        original = getattr(inputs_module, name)

        def counted(*args: Any, _name: str = name, _original: Any = original, **kw: Any) -> Any:
            counts[_name] += 1
            return _original(*args, **kw)

        monkeypatch.setattr(inputs_module, name, counted)
    return counts


def forbid_sources(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any source loader fail: the use cases must compute on loaded inputs."""
    for name in LOADERS:

        def refuse(*_args: object, _name: str = name, **_kw: object) -> None:
            raise AssertionError(f"{_name} called: a source file is re-read")

        monkeypatch.setattr(inputs_module, name, refuse)


def test_load_inputs_returns_typed_inputs_with_provenance(settings: Settings) -> None:
    loaded = load_inputs(settings, InputFiles(demo=True))
    assert isinstance(loaded, LoadedInputs)
    assert loaded.fictional
    assert loaded.zonages is not None
    assert loaded.mobpro is not None
    assert loaded.mobpro.provenance.synthetic
    assert loaded.mobpro.vintage == "RP2021"
    assert loaded.communes.provenance.role == "communes"


def test_diagnose_computes_on_loaded_inputs_without_reading_sources(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded = load_inputs(settings, InputFiles(demo=True))
    expected = run_diagnosis(settings, DiagnoseRequest(territory="dep:00", demo=True))
    forbid_sources(monkeypatch)
    result = diagnose(settings, loaded, DiagnoseRequest(territory="dep:00"))
    pd.testing.assert_frame_equal(result.communes, expected.communes)
    pd.testing.assert_frame_equal(result.catchments, expected.catchments)
    assert result.notes == expected.notes
    assert result.fictional


def test_run_sites_loads_each_source_once(settings: Settings, loads: Counter[str]) -> None:
    result = run_sites(settings, SitesRequest(territory="dep:00", count=2, demo=True))
    assert len(result.sites) == 2
    assert loads["load_communes"] == 1
    assert loads["load_zonages"] == 1
    assert loads["open_mobpro"] == 1


def test_run_sites_co2_loads_the_census_once(settings: Settings, loads: Counter[str]) -> None:
    request = SitesRequest(territory="dep:00", count=2, demo=True, objective="co2")
    result = run_sites(settings, request)
    assert result.co2 is not None
    assert loads["load_communes"] == 1
    assert loads["open_mobpro"] == 1


def test_run_diagnosis_accepts_a_progress_callback(settings: Settings) -> None:
    events: list[str] = []
    run_diagnosis(
        settings,
        DiagnoseRequest(territory="dep:00", demo=True),
        progress=lambda e: events.append(e.phase),
    )
    assert "indicateurs" in events


def test_workspace_manifest_gives_provenance_and_checksums(demo_workspace: Workspace) -> None:
    manifest = json.loads((demo_workspace.path / MANIFEST).read_text(encoding="utf-8"))
    datasets = {t["dataset"]: t for t in manifest["tables"]}
    assert {"communes", "zonages", "mobpro"} <= set(datasets)
    for table in manifest["tables"]:
        data = (demo_workspace.path / table["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == table["sha256"]
        assert table["built"] == manifest["built"]
        assert table["provenance"]["location"]
    mobpro = datasets["mobpro"]
    assert mobpro["provenance"]["vintage"] == "RP2021"
    assert mobpro["provenance"]["synthetic"] is True
    assert mobpro["provenance"]["sha256"]
    assert "rp2021" in mobpro["file"]
    assert manifest["fictional"] is True


def test_workspace_tables_are_queried_with_duckdb(demo_workspace: Workspace) -> None:
    counts = demo_workspace.query("SELECT count(*) AS n FROM communes")
    assert int(counts["n"].iloc[0]) == len(demo_workspace.communes.table)
    census = demo_workspace.query("SELECT sum(weight) AS w FROM mobpro")
    assert float(census["w"].iloc[0]) > 0


def test_diagnostic_on_an_open_workspace_reads_no_source_file(
    settings: Settings, demo_workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = run_diagnosis(settings, DiagnoseRequest(territory="dep:00", demo=True))
    workspace = Workspace.open(demo_workspace.path)
    # The demo's synthetic census lives in the cache: gone, and no loader may run.
    shutil.rmtree(settings.cache_dir)
    forbid_sources(monkeypatch)
    result = run_diagnosis(
        settings, DiagnoseRequest(territory="dep:00"), inputs=workspace.inputs(settings)
    )
    pd.testing.assert_frame_equal(result.communes, expected.communes)
    pd.testing.assert_frame_equal(result.catchments, expected.catchments)
    assert result.synthetic
    assert result.fictional
    # Every output still says which sources and vintages it used, and where it read them.
    vintages = {p.role: p.vintage for p in result.provenance}
    assert vintages["mobpro"] == "RP2021"
    assert any("espace de travail" in n for p in result.provenance for n in p.notes)


def test_sites_and_survey_on_a_workspace(
    settings: Settings, demo_workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded = Workspace.open(demo_workspace.path).inputs(settings)
    forbid_sources(monkeypatch)
    sites = run_sites(settings, SitesRequest(territory="dep:00", count=2), inputs=loaded)
    assert sites.fictional
    assert len(sites.sites) == 2
    context = SurveyContext.from_inputs(settings, loaded)
    respondent = context.submit(ANSWERS, submission="ws-1")
    assert respondent
    analysis = analyse_survey(settings, SurveyAnalysisRequest(), inputs=loaded)
    assert analysis.fictional
    assert len(analysis.respondents) == 1


def test_survey_context_lists_every_invalid_answer(settings: Settings) -> None:
    context = SurveyContext.load(settings, demo=True)
    with pytest.raises(SchemaError) as caught:
        context.validate({**ANSWERS, "commune_residence": "Nulle-Part", "statut": "pirate"})
    assert "Nulle-Part" in str(caught.value)
    assert "pirate" in str(caught.value)


def test_open_refuses_a_missing_or_altered_workspace(
    demo_workspace: Workspace, tmp_path: Path
) -> None:
    with pytest.raises(SourceError, match="data build"):
        Workspace.open(tmp_path / "nothing")
    table = demo_workspace.path / demo_workspace.entries["communes"].file
    table.write_bytes(table.read_bytes() + b"x")
    with pytest.raises(SourceError, match="somme de contrôle"):
        Workspace.open(demo_workspace.path, verify=True)


def test_workspace_of_a_newer_version_is_refused(demo_workspace: Workspace) -> None:
    path = demo_workspace.path / MANIFEST
    manifest = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps({**manifest, "format": 99}), encoding="utf-8")
    with pytest.raises(SchemaError, match="plus récente"):
        Workspace.open(demo_workspace.path)


def _copy_inputs(data_dir: Path, target: Path) -> Path:
    """Hand-written communes, zonings, density and census copied into a folder of ours."""
    target.mkdir()
    for relative in (
        "communes/communes_extrait.csv",
        "zonages/table_supracom_2024_extrait.csv",
        "zonages/libelles_supracom_2024_extrait.csv",
        "mobpro/FD_MOBPRO_2021_extrait.csv",
        "mobpro/varmod_mobpro_2021.csv",
        "densite/grille_densite_7_niveaux_2024.csv",
    ):
        shutil.copy(data_dir / relative, target / Path(relative).name)
    return target


def test_workspace_from_hand_written_files_survives_their_removal(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _copy_inputs(data_dir, tmp_path / "data")
    settings = Settings(offline=True, data_dir=source, cache_dir=tmp_path / "cache")
    request = DiagnoseRequest(territory="dep:05")
    expected = run_diagnosis(settings, request)
    build_workspace(settings, tmp_path / "ws")
    workspace = Workspace.open(tmp_path / "ws")
    assert workspace.densite is not None
    assert workspace.mobpro is not None
    assert workspace.mobpro.labels  # the varmod labels are kept
    shutil.rmtree(source)
    shutil.rmtree(settings.cache_dir)
    forbid_sources(monkeypatch)
    result = run_diagnosis(settings, request, inputs=workspace.inputs(settings))
    pd.testing.assert_frame_equal(result.communes, expected.communes)
    pd.testing.assert_frame_equal(result.catchments, expected.catchments)
    assert {p.role: p.vintage for p in result.provenance} == {
        p.role: p.vintage for p in expected.provenance
    }


def test_cli_data_build_and_show(tmp_path: Path, env: dict[str, str]) -> None:
    folder = tmp_path / "ws"
    built = runner.invoke(app, ["data", "build", "--demo", "--workspace", str(folder)], env=env)
    assert built.exit_code == 0, built.output
    assert (folder / MANIFEST).is_file()
    shown = runner.invoke(app, ["data", "show", "--workspace", str(folder), "--verify"], env=env)
    assert shown.exit_code == 0, shown.output
    assert "mobpro" in shown.output
    assert "RP2021" in shown.output
    assert "SYNTHÉTIQUE" in shown.output


def test_cli_data_show_without_workspace_is_one_line(tmp_path: Path, env: dict[str, str]) -> None:
    result = runner.invoke(app, ["data", "show", "--workspace", str(tmp_path / "x")], env=env)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "tierslieux data build" in result.output


def test_run_sites_on_files_loads_each_source_once(
    data_dir: Path, tmp_path: Path, loads: Counter[str]
) -> None:
    source = _copy_inputs(data_dir, tmp_path / "data")
    settings = Settings(offline=True, data_dir=source, cache_dir=tmp_path / "cache")
    result = run_sites(settings, SitesRequest(territory="dep:05", count=1))
    assert len(result.sites) == 1
    assert dict(loads) == {
        "load_communes": 1,
        "load_zonages": 1,
        "open_mobpro": 1,
        "load_densite": 1,
    }
