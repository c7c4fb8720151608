"""Atomic output folders: everything is written aside, then moved into place."""

from __future__ import annotations

import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from tierslieux.errors import SourceError
from tierslieux.i18n import gettext as _

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["atomic_output_dir"]


@contextmanager
def atomic_output_dir(out: Path) -> Iterator[Path]:
    """Yield a staging folder; on success move its files into ``out``, else drop it.

    The staging folder sits beside ``out`` (same file system) so that each move is a
    rename.  If the block raises, ``out`` is left exactly as it was.
    """
    out = out.resolve()
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    except OSError as error:
        raise SourceError(
            _("Impossible de créer le dossier de sortie {path} : {error}.", path=out, error=error)
        ) from error
    try:
        yield staging
        out.mkdir(parents=True, exist_ok=True)
        for item in sorted(staging.iterdir()):
            item.replace(out / item.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
