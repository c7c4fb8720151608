"""Catalogue of official datasets (data, not code) and their download into the cache."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

from tierslieux.errors import SchemaError, SourceError
from tierslieux.i18n import gettext as _
from tierslieux.model.types import file_name
from tierslieux.sources._http import download

if TYPE_CHECKING:
    from pathlib import Path

    import httpx

    from tierslieux.model.types import Provenance

__all__ = ["Dataset", "catalogue_entry", "fetch_dataset", "load_catalog", "source_name"]


@dataclass(frozen=True)
class Dataset:
    """One entry of the catalogue."""

    id: str
    url: str
    vintage: str
    licence: str
    filename: str
    role: str
    sha256: str | None = None
    #: The dataset's official name, for readers (« Contours des communes… »).
    title: str = ""


def load_catalog(override: Path | None = None) -> dict[str, Dataset]:
    """Return the packaged catalogue, updated with the entries of ``override``."""
    text = (resources.files("tierslieux.sources") / "catalog.toml").read_text(encoding="utf-8")
    entries = dict(tomllib.loads(text))
    if override is not None:
        try:
            entries.update(tomllib.loads(override.read_text(encoding="utf-8")))
        except OSError as error:
            raise SourceError(
                _("Catalogue {path} illisible : {error}.", path=override, error=error)
            ) from error
        except tomllib.TOMLDecodeError as error:
            raise SchemaError(
                _("Catalogue {path} : TOML invalide ({error}).", path=override, error=error)
            ) from error
    catalog: dict[str, Dataset] = {}
    for key, value in entries.items():
        try:
            catalog[key] = Dataset(
                id=key,
                url=str(value["url"]),
                vintage=str(value.get("vintage", "")),
                licence=str(value.get("licence", "")),
                filename=str(value.get("filename") or value["url"].rsplit("/", 1)[-1]),
                role=str(value.get("role", "")),
                sha256=value.get("sha256"),
                title=str(value.get("title", "")),
            )
        except (KeyError, TypeError, AttributeError) as error:
            raise SchemaError(
                _(
                    "Catalogue : l'entrée [{key}] doit avoir au moins une clé « url » ({error}).",
                    key=key,
                    error=error,
                )
            ) from error
    return catalog


def fetch_dataset(
    dataset: Dataset,
    cache_dir: Path,
    *,
    client: httpx.Client | None = None,
    progress: bool = True,
) -> Path:
    """Download ``dataset`` into ``cache_dir/<id>/`` once and return the local file.

    A ``.meta.json`` beside the file records URL, vintage, date and SHA-256.
    """
    return download(
        dataset.url,
        cache_dir / dataset.id / dataset.filename,
        expected_sha256=dataset.sha256,
        vintage=dataset.vintage,
        client=client,
        progress=progress,
    )


def source_name(provenance: Provenance) -> str:
    """A source as a reader knows it (communes, tiers-lieux…), never a path on the server.

    The official name and vintage of a catalogue dataset (« Contours des communes (IGN
    Admin Express, Etalab), 2026 »), else the file name with its vintage when known
    (« communes.csv »); merged sources are joined with « + ».
    """
    names = []
    for location in str(provenance.location).split(" + "):
        name = file_name(location)
        entry = catalogue_entry(name)
        if entry is not None and entry.title:
            name = f"{entry.title}, {entry.vintage}" if entry.vintage else entry.title
        names.append(name)
    text = " + ".join(dict.fromkeys(names))
    if provenance.vintage and provenance.vintage not in text:
        text = f"{text} ({provenance.vintage})"
    return text


def catalogue_entry(filename: str) -> Dataset | None:
    """The catalogue's dataset downloaded under ``filename`` (its official name)."""
    try:
        catalog = load_catalog()
    except (SourceError, SchemaError):  # pragma: no cover - packaged file
        return None
    return next((d for d in catalog.values() if d.filename == filename), None)
