"""One rule for a project's inputs on every screen (diagnostic, sites, directory,
questionnaire): :func:`tierslieux.pipeline.project_runs.project_inputs`."""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import time
from pathlib import Path

import pandas as pd
import pytest

from tierslieux.errors import TierslieuxError
from tierslieux.pipeline._prepared_inputs import PREPARED_FOLDER, UNUSED_DAYS
from tierslieux.pipeline.inputs import load_inputs
from tierslieux.pipeline.project_runs import project_inputs
from tierslieux.pipeline.projects import materialise_datasets
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


# --- A project's files read once, then taken back prepared -------------------------

_FILES = {
    "communes": ("communes", "communes-france-2024_extrait.csv"),
    "contours": ("communes", "communes-05-contours.geojson"),
    "zonages": ("zonages", "table_supracom_2024_extrait.csv"),
    "densite": ("densite", "grille_densite_7_niveaux_2024.csv"),
}


def _with_files(repos, name: str = "Fichiers") -> int:
    project = _project(repos, name)
    for role, (folder, filename) in _FILES.items():
        _put(repos, project, role, (DATA / folder / filename).read_bytes(), filename)
    return project


def _readings(monkeypatch) -> list[str]:
    """The files the readers open from now on (their names)."""
    from tierslieux.pipeline import inputs as module  # noqa: PLC0415

    opened: list[str] = []
    for name in ("load_communes", "load_zonages", "load_densite"):
        reader = getattr(module, name)

        def counted(path, *args, _reader=reader, **kwargs):
            opened.append(Path(path).name)
            return _reader(path, *args, **kwargs)

        monkeypatch.setattr(module, name, counted)
    return opened


def _loaded(repos, settings, project: int, *, mobpro: bool = False):
    with project_inputs(repos, settings, project, None, mobpro=mobpro) as inputs:
        return inputs


def _plain(text: str) -> str:
    """``text`` with every path reduced to its file name (each reading has its folder)."""
    return re.sub(r"\S*/", "", text)


def _same_provenance(left, right) -> None:
    assert _plain(left.location) == _plain(right.location)
    assert [_plain(n) for n in left.notes] == [_plain(n) for n in right.notes]
    assert dataclasses.replace(left, location="", notes=()) == dataclasses.replace(
        right, location="", notes=()
    )


def _same_inputs(left, right) -> None:
    pd.testing.assert_frame_equal(left.communes.table, right.communes.table, check_exact=True)
    assert left.communes.geometries == right.communes.geometries
    _same_provenance(left.communes.provenance, right.communes.provenance)
    pd.testing.assert_frame_equal(left.zonages.table, right.zonages.table, check_exact=True)
    assert left.zonages.labels == right.zonages.labels
    assert left.zonages.sizes == right.zonages.sizes
    _same_provenance(left.zonages.provenance, right.zonages.provenance)
    pd.testing.assert_frame_equal(left.densite.table, right.densite.table, check_exact=True)
    _same_provenance(left.densite.provenance, right.densite.provenance)
    assert left.notes == right.notes


def test_a_projects_files_are_read_once_then_taken_back_prepared(
    web_settings, repos, monkeypatch, tmp_path
) -> None:
    """3 s on each worker's first screen of a PACA project (all its files parsed again):
    the second reading, from any process, opens none of them and gives the same inputs
    as the command line's reading of the same files."""
    project = _with_files(repos)
    core = web_settings.core
    opened = _readings(monkeypatch)
    first = _loaded(repos, core, project)
    assert sorted(opened) == sorted(filename for _folder, filename in _FILES.values())
    opened.clear()
    second = _loaded(repos, core, project)
    assert opened == []  # nothing parsed again
    _same_inputs(first, second)
    # The command line's reading of the same files (materialised as before).
    files = materialise_datasets(repos, project, tmp_path / "fichiers")
    _same_inputs(load_inputs(core, files, mobpro=False), second)
    # The provenances name the files where this reading wrote them (a folder of the
    # cache, as before), never the folder of the first reading.
    assert "tierslieux-run-" in second.communes.provenance.location
    assert "{dossier}" not in second.communes.provenance.location


def test_a_replaced_file_is_read_again(web_settings, repos, monkeypatch) -> None:
    project = _with_files(repos)
    core = web_settings.core
    assert "04001" not in set(_loaded(repos, core, project).communes.table["code"])
    other = (DATA / "communes" / "communes_extrait.csv").read_bytes()
    _put(repos, project, "communes", other, "communes.csv")
    opened = _readings(monkeypatch)
    inputs = _loaded(repos, core, project)
    assert "04070" in set(inputs.communes.table["code"])
    # The communes and their outlines merged again; the zonings and grid kept.
    assert sorted(opened) == ["communes-05-contours.geojson", "communes.csv"]


def test_a_form_unused_for_a_month_is_deleted_when_another_is_kept(web_settings, repos) -> None:
    """The form of a replaced file is never read again: deleted once no reading has
    used it for UNUSED_DAYS days, when another form is kept; one used lately stays."""
    project = _with_files(repos)
    core = web_settings.core
    _loaded(repos, core, project)
    prepared = core.cache_dir / PREPARED_FOLDER
    (before,) = prepared.glob("communes-*")
    zonings = next(prepared.glob("zonages-*"))
    old = time.time() - (UNUSED_DAYS + 1) * 86_400
    os.utime(before / "meta.json", (old, old))
    other = (DATA / "communes" / "communes_extrait.csv").read_bytes()
    _put(repos, project, "communes", other, "communes.csv")
    _loaded(repos, core, project)  # a new communes form kept: the old one deleted
    assert not before.exists()
    assert zonings.exists()
    assert len(list(prepared.glob("communes-*"))) == 1


def test_an_unreadable_prepared_form_is_read_again_from_the_files(
    web_settings, repos, monkeypatch
) -> None:
    project = _with_files(repos)
    core = web_settings.core
    first = _loaded(repos, core, project)
    prepared = core.cache_dir / PREPARED_FOLDER
    tables = sorted(prepared.glob("communes-*/table.parquet"))
    assert len(tables) == 1
    tables[0].write_bytes(b"tronque")
    opened = _readings(monkeypatch)
    again = _loaded(repos, core, project)
    assert "communes-05-contours.geojson" in opened
    _same_inputs(first, again)
    opened.clear()
    _same_inputs(first, _loaded(repos, core, project))  # kept again
    assert opened == []


def test_a_refused_file_keeps_the_readers_message_and_nothing_prepared(web_settings, repos) -> None:
    project = _project(repos, "Fichier refusé")
    # Stored as is (an upload checks it first): the reading still says what is wrong.
    content = (DATA / "communes" / "communes_sans_code.csv").read_bytes()
    _put(repos, project, "communes", content, "communes_sans_code.csv")
    with pytest.raises(TierslieuxError, match=r"communes_sans_code\.csv"):
        _loaded(repos, web_settings.core, project)
    assert not list((web_settings.core.cache_dir / PREPARED_FOLDER).glob("communes-*"))


def test_an_uploads_check_prepares_the_first_reading(web_settings, repos, monkeypatch) -> None:
    """The check of an upload reads the files as the screens do: the first screen of
    the first process reads none of them again, and gets what a reading would."""
    from tierslieux.pipeline.accounts import add_user  # noqa: PLC0415
    from tierslieux.pipeline.projects import upload_dataset  # noqa: PLC0415

    core = web_settings.core
    user = add_user(
        repos, "depot@exemple.fr", role="charge_de_mission", actor="test", password="x" * 12
    )
    project = _project(repos, "Dépôts")
    # The outlines after the names (the merge's order is the roles', not the uploads').
    for role in ("contours", "communes", "zonages", "densite"):
        folder, filename = _FILES[role]
        upload_dataset(
            repos,
            core,
            project,
            role=role,
            filename=filename,
            content=(DATA / folder / filename).read_bytes(),
            actor=user,
        )
    opened = _readings(monkeypatch)
    prepared = _loaded(repos, core, project)
    assert opened == []
    monkeypatch.undo()
    # The same as a reading of the files themselves.
    shutil.rmtree(core.cache_dir / PREPARED_FOLDER)
    _same_inputs(_loaded(repos, core, project), prepared)


def test_the_readers_notes_keep_the_language_of_the_reading(
    web_settings, repos, monkeypatch
) -> None:
    from tierslieux.i18n import use_language  # noqa: PLC0415

    project = _with_files(repos)
    core = web_settings.core
    french = _loaded(repos, core, project)
    opened = _readings(monkeypatch)
    with use_language("en"):
        english = _loaded(repos, core, project)
    # Not the French notes taken back: read again, in English.
    assert "communes-05-contours.geojson" in opened
    assert english.communes.provenance.notes != french.communes.provenance.notes


def test_a_cache_that_cannot_be_written_leaves_the_reading_and_the_upload_working(
    web_settings, repos
) -> None:
    from tierslieux.pipeline.accounts import add_user  # noqa: PLC0415
    from tierslieux.pipeline.projects import upload_dataset  # noqa: PLC0415

    core = web_settings.core
    core.cache_dir.mkdir(parents=True, exist_ok=True)
    (core.cache_dir / PREPARED_FOLDER).write_text("pas un dossier")  # no folder there
    user = add_user(
        repos, "depot@exemple.fr", role="charge_de_mission", actor="test", password="x" * 12
    )
    project = _project(repos, "Cache en lecture seule")
    folder, filename = _FILES["communes"]
    upload_dataset(
        repos,
        core,
        project,
        role="communes",
        filename=filename,
        content=(DATA / folder / filename).read_bytes(),
        actor=user,
    )
    from tierslieux.pipeline.inputs import resolve_communes  # noqa: PLC0415

    expected = resolve_communes(core, (DATA / folder / filename,)).table
    pd.testing.assert_frame_equal(_loaded(repos, core, project).communes.table, expected)


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
