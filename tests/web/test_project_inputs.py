"""One rule for a project's inputs on every screen (diagnostic, sites, directory,
questionnaire): :func:`tierslieux.pipeline.project_runs.project_inputs`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tierslieux.errors import TierslieuxError
from tierslieux.pipeline.project_runs import project_inputs
from tierslieux.pipeline.workspace import Workspace

DATA = Path(__file__).resolve().parents[1] / "data"


def _project(repos, name: str) -> int:
    return repos.projects.add_project(
        name, territory="dep:00", territory_label="Démo", actor="test"
    ).id


def _put(repos, project: int, role: str, content: bytes, filename: str) -> None:
    repos.projects.put_dataset(
        project,
        role=role,
        filename=filename,
        media_type="text/csv",
        content=content,
        summary=None,
        actor="test",
    )


def test_without_input_files_the_workspace_is_used(web_settings, repos, demo_workspace) -> None:
    project = _project(repos, "Sans fichier")
    # Files that are no inputs of this kind (actors, a demand for the sites) leave the
    # workspace in place.
    _put(repos, project, "acteurs", b"nom,categorie,code_commune\nA,cae,00101\n", "a.csv")
    _put(repos, project, "demande", b"code,demand\n00101,3\n", "d.csv")
    workspace = Workspace.open(demo_workspace)
    for given in (demo_workspace, workspace):
        with project_inputs(repos, web_settings.core, project, given, mobpro=False) as inputs:
            assert inputs.fictional
            assert len(inputs.communes.table) == len(workspace.communes.table)


def test_the_project_communes_file_replaces_the_workspace(web_settings, repos) -> None:
    project = _project(repos, "Avec communes")
    content = (DATA / "communes" / "communes_extrait.csv").read_bytes()
    _put(repos, project, "communes", content, "communes.csv")
    with project_inputs(
        repos, web_settings.core, project, web_settings.workspace, mobpro=False
    ) as inputs:
        assert not inputs.fictional
        assert "04070" in set(inputs.communes.table["code"])
        assert inputs.mobpro is None
    # Loaded in memory: usable once the block is left (the questionnaire keeps them).
    assert "04112" in set(inputs.communes.table["code"])


def test_no_file_and_no_workspace_is_said_in_french(web_settings, repos) -> None:
    project = _project(repos, "Rien")
    with (
        pytest.raises(TierslieuxError, match="aucun fichier d'entrée"),
        project_inputs(repos, web_settings.core, project, None),
    ):
        pass


def test_a_zonings_table_alone_is_named_by_the_workspace(web_settings, repos) -> None:
    """Audit: the Insee table uploaded without its labels file named no EPCI, so the
    directory listed « Intercommunalité 2000… »; the workspace's names fill the gaps."""
    from tierslieux.pipeline.inputs import demo_files  # noqa: PLC0415
    from tierslieux.sources.actors import load_epci_actors  # noqa: PLC0415

    project = _project(repos, "Zonages sans libellés")
    files = demo_files()
    _put(repos, project, "communes", files["communes"].read_bytes(), "communes.geojson")
    _put(repos, project, "zonages", files["zonages"].read_bytes(), "zonages.csv")
    reference = Workspace.open(web_settings.workspace).zonages
    assert reference is not None
    with project_inputs(
        repos, web_settings.core, project, web_settings.workspace, mobpro=False
    ) as inputs:
        assert inputs.zonages is not None
        table = inputs.zonages.table
        labels = inputs.zonages.labels.get("epci", {})
    sirens = sorted(set(table["epci"].dropna()))
    assert sirens
    assert all(labels.get(s) == reference.labels["epci"][s] for s in sirens)
    actors = load_epci_actors(table, labels, list(table["code"]))
    assert not actors["nom"].str.startswith("Intercommunalité ").any()


def test_without_workspace_the_data_folder_names_the_zonings(web_settings, repos, tmp_path) -> None:
    """Walk: an installation without workspace, whose data folder holds the Insee
    table and its labels (the README's set-up): the project's table uploaded alone
    took no name from it, so the directory listed « Intercommunalité 200071025 »
    while « Nouveau projet » found the EPCI by its official name."""
    from tierslieux.pipeline.inputs import demo_files  # noqa: PLC0415
    from tierslieux.sources.actors import load_epci_actors  # noqa: PLC0415
    from tierslieux.sources.zonages import load_zonages  # noqa: PLC0415

    files = demo_files()
    data = tmp_path / "donnees"
    (data / "zonages").mkdir(parents=True)
    (data / "zonages" / "table_supracom_2024.csv").write_bytes(files["zonages"].read_bytes())
    (data / "zonages" / "libelles_supracom_2024.csv").write_bytes(files["labels"].read_bytes())
    reference = load_zonages(files["zonages"], files["labels"]).labels["epci"]
    project = _project(repos, "Zonages sans libellés, sans espace de travail")
    _put(repos, project, "communes", files["communes"].read_bytes(), "communes.geojson")
    _put(repos, project, "zonages", files["zonages"].read_bytes(), "zonages.csv")
    core = web_settings.core.model_copy(update={"data_dir": data})
    # No workspace, or its default folder never built (what the directory's run passes).
    for workspace in (None, tmp_path / "cache" / "workspace"):
        with project_inputs(repos, core, project, workspace, mobpro=False) as inputs:
            assert inputs.zonages is not None
            table = inputs.zonages.table
            labels = inputs.zonages.labels.get("epci", {})
        sirens = sorted(set(table["epci"].dropna()))
        assert sirens
        assert all(labels.get(s) == reference[s] for s in sirens), workspace
        actors = load_epci_actors(table, labels, list(table["code"]))
        assert not actors["nom"].str.startswith("Intercommunalité ").any()
    # A data folder without zonings changes nothing (and is no error).
    empty = web_settings.core.model_copy(update={"data_dir": tmp_path / "vide"})
    with project_inputs(repos, empty, project, None, mobpro=False) as inputs:
        assert inputs.zonages is not None
        assert not inputs.zonages.labels.get("epci")
