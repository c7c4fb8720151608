"""Readers of the CSV files that other commands write, in one place (for the CLI).

``structures.csv`` (``tierslieux communities``), ``groups.csv`` and ``respondents.csv``
(``tierslieux survey analyse``), ``sites.csv`` (``tierslieux sites``): a web
application passes the frames it holds instead; the command line chains the commands
through these files.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd

from tierslieux.analysis.dedup import deduplicate_structures
from tierslieux.errors import SchemaError
from tierslieux.i18n import N_
from tierslieux.i18n import gettext as _
from tierslieux.model.codes import is_commune_code
from tierslieux.model.structures import CATEGORIES
from tierslieux.sources._files import read_csv_strings, require_file
from tierslieux.sources.groups import read_groups

__all__ = ["read_groups", "read_respondents", "read_sites", "read_structures_table"]


def read_structures_table(path: Path) -> pd.DataFrame:
    """Structures of a ``structures.csv`` of ``tierslieux communities`` (read once per
    file version): categories of the four steps only, duplicates merged."""
    require_file(path, "structures")
    stat = path.stat()
    return _read_structures(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=4)
def _read_structures(path: str, _mtime_ns: int, _size: int) -> pd.DataFrame:
    frame = read_csv_strings(Path(path), role=N_("structures"))
    missing = [c for c in ("categorie", "themes", "code_commune") if c not in frame.columns]
    if missing:
        raise SchemaError(
            _(
                "{path} : colonne(s) {missing} manquante(s) (fichier structures.csv de "
                "« tierslieux communities » attendu).",
                path=path,
                missing=", ".join(missing),
            )
        )
    if "identifiant" not in frame.columns:
        frame["identifiant"] = [f"ligne:{i + 2}" for i in range(len(frame))]
    if "nom" not in frame.columns:
        frame["nom"] = frame["identifiant"]
    # A hand-edited or concatenated file may list one structure twice.
    return deduplicate_structures(frame[frame["categorie"].isin(CATEGORIES)])


def read_respondents(path: Path) -> pd.DataFrame:
    """The ``respondents.csv`` of ``tierslieux survey analyse``, column ``commune`` checked."""
    frame = read_csv_strings(path, role=N_("répondants du questionnaire"))
    if "commune" not in frame.columns:
        raise SchemaError(
            _(
                "{path} : colonne commune manquante (fichier respondents.csv de "
                "« tierslieux survey analyse » attendu).",
                path=path,
            )
        )
    return frame


def read_sites(path: Path, known: set[str]) -> list[str]:
    """Communes of the chosen sites, from the ``sites.csv`` of ``tierslieux sites``.

    Column ``code_commune`` when present (a site may be a place, whose ``code`` is its
    own identifier), else ``code``; a hand-written one-column list of codes also works.
    """
    try:
        with Path(path).open("rb") as handle:
            header = handle.readline().decode("utf-8", errors="replace")
    except OSError:
        header = ";"  # let read_csv_strings report the missing file
    # A hand-written list of codes has a single column: no separator to detect.
    single = not any(sep in header for sep in (";", ",", "\t", "|"))
    frame = read_csv_strings(path, role="sites", separator="," if single else None)
    column = "code_commune" if "code_commune" in frame.columns else "code"
    if column not in frame.columns:
        raise SchemaError(
            _(
                "{path} : colonne code manquante (fichier sites.csv de « tierslieux sites » "
                "attendu).",
                path=path,
            )
        )
    codes: list[str] = []
    for line, value in enumerate(frame[column], start=2):
        code = str(value).strip() if pd.notna(value) else ""
        if not is_commune_code(code) or code not in known:
            raise SchemaError(
                _(
                    "{path}, ligne {line} : « {code} » n'est pas le code d'une commune connue.",
                    path=path,
                    line=line,
                    code=code,
                )
            )
        codes.append(code)
    if not codes:
        raise SchemaError(_("{path} : aucun site.", path=path))
    return codes
