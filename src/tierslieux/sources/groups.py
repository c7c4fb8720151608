"""Questionnaire groups (``groups.csv`` written by ``tierslieux survey analyse``).

One row per group: ``groupe`` (identifier), ``theme`` (or ``themes``, joined by ``;``),
``membres`` (positive integer), ``communes`` (INSEE codes joined by ``;``) and,
optionally, ``membres_par_commune`` (``code:nombre;…``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pandas as pd

from tierslieux.errors import SchemaError
from tierslieux.i18n import N_
from tierslieux.i18n import gettext as _
from tierslieux.model.codes import is_commune_code
from tierslieux.model.structures import QuestionnaireGroup
from tierslieux.sources._files import read_csv_strings

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["GROUP_COLUMNS", "line_error", "read_groups"]

#: Columns of ``groups.csv`` (written by ``tierslieux survey analyse``) used here.
GROUP_COLUMNS = ("groupe", "membres", "communes")

_COUNT = re.compile(r"[0-9]{1,9}")


def line_error(path: Path, line: int, message: str) -> SchemaError:
    """A schema error naming the file and the line."""
    return SchemaError(_("{path}, ligne {line} : {message}", path=path, line=line, message=message))


def read_groups(path: Path) -> list[QuestionnaireGroup]:
    """Read and check the ``groups.csv`` of the questionnaire (French errors, file/line)."""
    frame = read_csv_strings(path, role=N_("groupes du questionnaire"))
    missing = [c for c in GROUP_COLUMNS if c not in frame.columns]
    if "theme" not in frame.columns and "themes" not in frame.columns:
        missing.append("theme")
    if missing:
        raise SchemaError(
            _(
                "{path} : colonne(s) {missing} manquante(s) (fichier groups.csv de "
                "« tierslieux survey analyse » attendu : groupe, theme, membres, communes).",
                path=path,
                missing=", ".join(missing),
            )
        )
    theme_column = "theme" if "theme" in frame.columns else "themes"
    groups: list[QuestionnaireGroup] = []
    for number, row in enumerate(frame.to_dict("records"), start=2):
        ident = str(row["groupe"]).strip() if pd.notna(row["groupe"]) else ""
        if not ident:
            raise line_error(path, number, _("identifiant de groupe vide."))
        raw_members = str(row["membres"]).strip() if pd.notna(row["membres"]) else ""
        # ASCII digits only, and few: str.isdigit accepts "²" and int() refuses > 4,300 digits.
        if not _COUNT.fullmatch(raw_members) or int(raw_members) < 1:
            raise line_error(
                path,
                number,
                _(
                    "nombre de membres « {v} » invalide (entier positif attendu).",
                    v=raw_members[:40],
                ),
            )
        communes = tuple(
            c.strip() for c in str(row["communes"]).split(";") if pd.notna(row["communes"])
        )
        communes = tuple(c for c in communes if c)
        bad = [c for c in communes if not is_commune_code(c)]
        if not communes or bad:
            raise line_error(
                path,
                number,
                _(
                    "code(s) commune invalide(s) : « {codes} » (codes Insee à 5 caractères "
                    "séparés par « ; » attendus).",
                    codes=";".join(bad) if bad else _("aucune commune"),
                ),
            )
        raw_themes = row[theme_column]
        themes = frozenset(
            t.strip() for t in str(raw_themes).split(";") if pd.notna(raw_themes) and t.strip()
        )
        per_commune = _members_per_commune(path, number, row.get("membres_par_commune"))
        groups.append(QuestionnaireGroup(ident, int(raw_members), themes, communes, per_commune))
    return groups


def _members_per_commune(path: Path, line: int, value: object) -> dict[str, int] | None:
    if value is None or not isinstance(value, str) or not value.strip():
        return None
    counts: dict[str, int] = {}
    for part in value.split(";"):
        code, _sep, number = part.strip().partition(":")
        if not is_commune_code(code) or not _COUNT.fullmatch(number):
            raise line_error(
                path,
                line,
                _("membres_par_commune « {v} » invalide (code:nombre;… attendu).", v=value[:80]),
            )
        counts[code] = counts.get(code, 0) + int(number)
    return counts
