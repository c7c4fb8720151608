"""Use cases on the catalogue of official datasets (list, fetch)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tierslieux.errors import SourceError
from tierslieux.i18n import gettext as _
from tierslieux.sources.catalog import Dataset, fetch_dataset, load_catalog

if TYPE_CHECKING:
    from pathlib import Path

    from tierslieux.config import Settings


def list_datasets(settings: Settings) -> list[Dataset]:
    """Return the entries of the catalogue (packaged, plus the user's override)."""
    return list(load_catalog(settings.catalog).values())


def fetch_datasets(settings: Settings, ids: list[str]) -> list[Path]:
    """Download the datasets ``ids`` of the catalogue into the cache."""
    catalog = load_catalog(settings.catalog)
    unknown = [i for i in ids if i not in catalog]
    if unknown:
        raise SourceError(
            _(
                "Jeu(x) de données inconnu(s) : {unknown}. Disponibles : {known}.",
                unknown=", ".join(unknown),
                known=", ".join(catalog),
            )
        )
    return [fetch_dataset(catalog[i], settings.cache_dir / "downloads") for i in ids]
