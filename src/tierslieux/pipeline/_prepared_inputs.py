"""A project's input files read once per installation, kept as Parquet tables.

Reading a project's own communes, outlines and zonings (all of France's communes
merged with PACA's outlines, say) takes seconds: the web application did it again on
the first screen of each worker process and for every run.  :func:`read_project_files`
reads them with the command line's readers (the same validation, the same messages on
a bad file), then keeps what they gave in the cache folder, as a workspace keeps its
tables; the next reading, from any process, takes those tables back.

The key of a prepared form is the content of the files it was read from (their
SHA-256, name and role) and the code of the readers (a new version of a reader reads
the files again): a replaced file, or another release, never gets a stale table.
A prepared form that cannot be read (a disk emptied, an interrupted copy) is read
again from the files, never an error.  A form no reading has used for
:data:`UNUSED_DAYS` days (that of a file since replaced, say) is deleted when another
is kept, so that the folder does not grow with every replaced file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

import tierslieux
from tierslieux import model, sources
from tierslieux.i18n import current_language
from tierslieux.model.types import Provenance
from tierslieux.pipeline import inputs as _inputs
from tierslieux.pipeline._tables import long_table, nested_mapping
from tierslieux.pipeline.inputs import (
    ReadInputs,
    resolve_communes,
    resolve_densite,
    resolve_zonages,
)
from tierslieux.sources.communes import Communes
from tierslieux.sources.densite import Densite
from tierslieux.sources.zonages import Zonages

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from tierslieux.config import Settings
    from tierslieux.store import DatasetView

__all__ = ["PREPARED_FOLDER", "keep_prepared", "read_project_files"]

log = logging.getLogger(__name__)

#: Folder of the prepared forms, in the cache folder.
PREPARED_FOLDER = "entrees-projets"
#: Version of the prepared forms' layout (part of their key).
_FORMAT = 1
_META = "meta.json"
#: Days after which a prepared form no reading has used is deleted.
UNUSED_DAYS = 30
#: The project's roles read together (merged as the command line's repeated --communes).
_GROUPS = {"communes": ("communes", "contours"), "zonages": ("zonages",), "densite": ("densite",)}


@cache
def _readers_digest() -> str:
    """The code of the readers, their merge and their vocabulary (the sources and the
    model): a new one reads the files again."""
    digest = hashlib.sha256(tierslieux.__version__.encode())
    folders = [Path(p) for package in (sources, model) for p in package.__path__]
    for source in [
        Path(_inputs.__file__ or ""),
        *sorted(p for f in folders for p in f.rglob("*.py")),
    ]:
        try:
            digest.update(source.read_bytes())
        except OSError:  # pragma: no cover - compiled-only installation: the version alone
            digest.update(source.name.encode())
    return digest.hexdigest()


def _key(group: str, datasets: Sequence[DatasetView]) -> str:
    files = [(d.role, d.filename, d.sha256) for d in datasets]
    # The readers' notes are written in the language of the reading.
    text = json.dumps([_FORMAT, _readers_digest(), current_language(), group, files])
    return f"{group}-{hashlib.sha256(text.encode()).hexdigest()[:40]}"


def _provenance_dict(provenance: Provenance, folder: Path) -> dict[str, Any]:
    """The provenance with the reading's temporary folder as a placeholder."""
    here = str(folder)
    data = provenance.to_dict()
    data["location"] = provenance.location.replace(here, "{dossier}")
    data["notes"] = [note.replace(here, "{dossier}") for note in provenance.notes]
    return data


def _provenance_in(data: dict[str, Any], folder: Path) -> Provenance:
    """A stored provenance naming ``folder``, where this reading wrote the files."""
    here = str(folder)
    known = set(Provenance.__dataclass_fields__)
    values = {k: v for k, v in data.items() if k in known}
    values["location"] = str(values["location"]).replace("{dossier}", here)
    values["notes"] = tuple(str(n).replace("{dossier}", here) for n in values.get("notes", ()))
    return Provenance(**values)


def _same_table(kept: pd.DataFrame, table: pd.DataFrame) -> bool:
    """Whether the table read back is the one kept (values, column names and types)."""
    return (
        list(kept.columns) == list(table.columns)
        and kept.dtypes.equals(table.dtypes)
        and kept.equals(table)
    )


def _write(target: Path, value: Communes | Zonages | Densite, folder: Path) -> None:
    """Keep ``value`` in ``target`` (written aside, then moved in place at once).

    Nothing is kept when its table would not be read back as it is (a type Parquet
    does not keep) or the cache cannot be written: the files' reading stands, only
    the next one is not spared.
    """
    staging: Path | None = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".ecriture-", dir=target.parent))
        value.table.to_parquet(staging / "table.parquet", index=False)
        if not _same_table(pd.read_parquet(staging / "table.parquet"), value.table):
            log.warning("prepared input not kept in %s: its table changes in Parquet", target)
            return
        if isinstance(value, Communes):
            # One JSON document: decoded in one call, much faster than one per commune.
            text = json.dumps(value.geometries, separators=(",", ":"))
            (staging / "contours.json").write_text(text, encoding="utf-8")
        if isinstance(value, Zonages):
            long_table(value.labels, "libelle").to_parquet(
                staging / "libelles.parquet", index=False
            )
            long_table(value.sizes, "nb").to_parquet(staging / "tailles.parquet", index=False)
        meta = {"format": _FORMAT, "provenance": _provenance_dict(value.provenance, folder)}
        (staging / _META).write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        staging.replace(target)
        _prune(target.parent, kept=target)
    except (OSError, ValueError, TypeError, NotImplementedError) as error:
        # Another process kept the same form meanwhile (the move refused), or the
        # cache cannot be written.
        if not (target / _META).is_file():
            log.warning("prepared input not kept in %s: %s", target, error)
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)


def _prune(root: Path, *, kept: Path) -> None:
    """Delete the forms of ``root`` no reading has used for :data:`UNUSED_DAYS` days."""
    oldest = time.time() - UNUSED_DAYS * 86_400
    for form in root.iterdir():
        if form == kept or form.name.startswith(".") or not form.is_dir():
            continue
        try:
            unused = (form / _META).stat().st_mtime < oldest
        except OSError:
            continue  # being written, or already gone
        if unused:
            shutil.rmtree(form, ignore_errors=True)


def _read(group: str, target: Path, folder: Path) -> Communes | Zonages | Densite | None:
    """The form kept in ``target``; ``None`` when there is none or it is unreadable.

    A form read is marked as used now (its ``meta.json``'s time), see :func:`_prune`.
    """
    if not (target / _META).is_file():
        return None
    try:
        with contextlib.suppress(OSError):  # a read-only cache still reads
            os.utime(target / _META)
        meta = json.loads((target / _META).read_text(encoding="utf-8"))
        provenance = _provenance_in(dict(meta["provenance"]), folder)
        table = pd.read_parquet(target / "table.parquet")
        if group == "communes":
            geometries = json.loads((target / "contours.json").read_text(encoding="utf-8"))
            return Communes(table=table, geometries=geometries, provenance=provenance)
        if group == "zonages":
            labels = nested_mapping(pd.read_parquet(target / "libelles.parquet"), "libelle")
            sizes = nested_mapping(pd.read_parquet(target / "tailles.parquet"), "nb")
            return Zonages(
                table=table,
                labels=labels,
                provenance=provenance,
                sizes={level: {c: int(n) for c, n in s.items()} for level, s in sizes.items()},
            )
        return Densite(table=table, provenance=provenance)
    except (OSError, ValueError, KeyError, TypeError) as error:
        log.warning("prepared input %s unreadable, files read again: %s", target, error)
        shutil.rmtree(target, ignore_errors=True)
        return None


def _read_files(
    settings: Settings, group: str, datasets: Sequence[DatasetView], paths: Sequence[Path]
) -> Communes | Zonages | Densite:
    """The command line's reading of the group's files (its checks, its messages)."""
    if group == "communes":
        return resolve_communes(settings, tuple(paths))
    found = (
        resolve_zonages(settings, paths[0])
        if group == "zonages"
        else resolve_densite(settings, paths[0])
    )
    if found is None:  # pragma: no cover - a file is given: its reader returns it or raises
        raise AssertionError(datasets)
    return found


def _unchanged(datasets: Sequence[DatasetView], paths: Sequence[Path]) -> bool:
    """Whether the files written are those of ``datasets`` (none replaced meanwhile)."""
    return all(
        hashlib.sha256(path.read_bytes()).hexdigest() == dataset.sha256
        for dataset, path in zip(datasets, paths, strict=True)
    )


def keep_prepared(
    settings: Settings,
    datasets: Sequence[DatasetView],
    paths: Sequence[Path],
    value: Communes | Zonages | Densite,
) -> None:
    """Keep what the files ``paths`` of ``datasets`` gave, as :func:`read_project_files`
    reads them (an upload's check: the files are then read once).

    ``datasets``: the whole group of the project's files (its communes and outlines,
    merged in that order; or its zonings; or its density grid), written into one
    folder; nothing is kept when they are not those files any more.
    """
    group = next((g for g, roles in _GROUPS.items() if datasets[0].role in roles), None)
    folders = {path.parent for path in paths}
    if group is None or len(folders) != 1 or not _unchanged(datasets, paths):
        return
    order = _GROUPS[group]
    if [d.role for d in datasets] != [r for r in order if any(d.role == r for d in datasets)]:
        return  # not in the order of the reading: another merge
    target = settings.cache_dir / PREPARED_FOLDER / _key(group, datasets)
    if not (target / _META).is_file():
        _write(target, value, folders.pop())


def read_project_files(
    settings: Settings,
    datasets: Sequence[DatasetView],
    folder: Path,
    write: Callable[[DatasetView], Path],
) -> ReadInputs:
    """The communes, zonings and density grid of a project's files, read once.

    Parameters
    ----------
    datasets
        The project's files as stored (their role, name and SHA-256: the key); the
        communes and outlines are merged as the command line's repeated ``--communes``.
    folder
        The folder of this reading: the provenances name it, as a reading of the
        files themselves would.
    write
        Writes one of them into ``folder`` and returns its path
        (:func:`~tierslieux.pipeline.projects.write_dataset`): called only for the
        files not prepared yet.

    Raises
    ------
    SourceError, SchemaError
        The readers' errors on a file refused (never kept).
    """
    read: dict[str, Communes | Zonages | Densite] = {}
    root = settings.cache_dir / PREPARED_FOLDER
    for group, roles in _GROUPS.items():
        own = [d for role in roles for d in datasets if d.role == role]
        if not own:
            continue
        target = root / _key(group, own)
        found = _read(group, target, folder)
        if found is None:
            paths = [write(d) for d in own]
            found = _read_files(settings, group, own, paths)
            if _unchanged(own, paths):
                _write(target, found, folder)
        read[group] = found
    found_communes, found_zonages, found_densite = (
        read.get("communes"),
        read.get("zonages"),
        read.get("densite"),
    )
    return ReadInputs(
        communes=found_communes if isinstance(found_communes, Communes) else None,
        zonages=found_zonages if isinstance(found_zonages, Zonages) else None,
        densite=found_densite if isinstance(found_densite, Densite) else None,
    )
