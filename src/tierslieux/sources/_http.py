"""Downloads with a progress bar, an on-disk cache and checksums.

The only module of tierslieux that opens network connections for data files.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import shutil
from typing import TYPE_CHECKING

import httpx
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from tierslieux.errors import DownloadError
from tierslieux.files import atomic_open, atomic_path, atomic_write_text, clean_partial_files
from tierslieux.i18n import gettext as _
from tierslieux.privacy import mask_url, mask_urls_in
from tierslieux.sources._files import sha256_of

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["download", "read_meta"]

_TIMEOUT = httpx.Timeout(60.0, connect=20.0)


def read_meta(path: Path) -> dict[str, str]:
    """Return the metadata recorded beside a downloaded file ({} if none)."""
    meta = path.with_name(path.name + ".meta.json")
    if not meta.is_file():
        return {}
    data: dict[str, str] = json.loads(meta.read_text(encoding="utf-8"))
    return data


def download(
    url: str,
    target: Path,
    *,
    expected_sha256: str | None = None,
    vintage: str | None = None,
    client: httpx.Client | None = None,
    progress: bool = True,
) -> Path:
    """Download ``url`` to ``target`` unless a verified copy is already cached.

    The file is written beside ``target`` then renamed
    (:func:`tierslieux.files.atomic_path`), so an interrupted download never leaves a
    file that looks complete; the partial files of interrupted downloads are removed
    from the folder first (:func:`tierslieux.files.clean_partial_files`).  ``.gz`` files
    are also decompressed (the returned path is then the decompressed file).

    Raises
    ------
    DownloadError
        Network failure, HTTP error, or checksum mismatch; the message names the URL
        and says where to put the file by hand.
    """
    final = target.with_suffix("") if target.suffix == ".gz" else target
    clean_partial_files(target.parent)
    meta = read_meta(target)
    if (
        final.is_file()
        and meta.get("sha256")
        and (expected_sha256 is None or meta["sha256"] == expected_sha256)
    ):
        return final
    owns_client = client is None
    http = client or httpx.Client(timeout=_TIMEOUT, follow_redirects=True)
    try:
        with atomic_path(target, error_type=DownloadError) as partial:
            digest = _fetch(http, url, target, partial, progress=progress)
            if expected_sha256 is not None and digest != expected_sha256:
                raise DownloadError(
                    _(
                        "La somme de contrôle de {url} ne correspond pas au catalogue (reçu "
                        "{got}, attendu {expected}) : le fichier a peut-être été mis à jour "
                        "par son producteur. Mettez à jour le catalogue (TIERSLIEUX_CATALOG).",
                        url=mask_url(url),
                        got=digest,
                        expected=expected_sha256,
                    )
                )
    finally:
        if owns_client:
            http.close()
    if final != target:
        with gzip.open(target, "rb") as src, atomic_open(final, "wb") as dst:
            shutil.copyfileobj(src, dst)
    atomic_write_text(
        target.with_name(target.name + ".meta.json"),
        json.dumps(
            {
                "url": mask_url(url),
                "vintage": vintage or "",
                "retrieved": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "sha256": digest,
            },
            ensure_ascii=False,
            indent=2,
        ),
    )
    return final


def _fetch(http: httpx.Client, url: str, target: Path, partial: Path, *, progress: bool) -> str:
    """Stream ``url`` into ``partial`` with a progress bar; return its SHA-256."""
    try:
        with http.stream("GET", url) as response:
            response.raise_for_status()
            total = int(response.headers.get("content-length") or 0) or None
            with (
                Progress(
                    TextColumn("{task.description}"),
                    BarColumn(),
                    DownloadColumn(),
                    TransferSpeedColumn(),
                    TimeRemainingColumn(),
                    disable=not progress,
                    transient=True,
                ) as bar,
                partial.open("wb") as out,
            ):
                task = bar.add_task(_("Téléchargement de {name}", name=target.name), total=total)
                for chunk in response.iter_bytes(1 << 20):
                    out.write(chunk)
                    bar.advance(task, len(chunk))
    except httpx.HTTPError as error:
        reason = (
            f"HTTP {error.response.status_code}"
            if isinstance(error, httpx.HTTPStatusError)
            else (mask_urls_in(str(error)) or type(error).__name__)
        )
        raise DownloadError(
            _(
                "Téléchargement impossible de {url} ({error}). Sans accès à Internet, "
                "téléchargez ce fichier à la main et placez-le dans {folder} ou passez "
                "son chemin en option.",
                url=mask_url(url),
                error=reason,
                folder=target.parent,
            )
        ) from error
    return sha256_of(partial)
