"""Known network lists: members of CAE networks and the like, supplied by the user.

Many cooperatives use a brand name that no rule can recognise (a coopérative d'activité
et d'emploi called after a plant or a season). The networks that federate them publish
their members (for CAE: the Coopérer pour entreprendre and Copéa networks, united in
the Fédération des CAE, https://les-cae.coop); a user can copy such a list into a CSV
and give it to ``tierslieux communities --reseaux FILE``. A Sirene or RNA row matched by
SIREN, or by name, then gets the list's category with a strong score, and the network
is named in its reason (see :func:`tierslieux.analysis.classify.classify`).

Format: CSV, ``,`` or ``;``, UTF-8 or Windows-1252, one row per member, header with
these columns (case-insensitive):

==============  ========  ============================================================
column          required  content
==============  ========  ============================================================
``reseau``      yes       name of the network (« Coopérer pour entreprendre »)
``siren``       no [1]_   SIREN of the member (9 digits, spaces allowed)
``nom``         no [1]_   name of the member as written in Sirene or the RNA (legal
                          name, trade name or title); matched without case, accents
                          or punctuation
``categorie``   no        category given to the member (default ``cae``)
==============  ========  ============================================================

.. [1] Every row needs a SIREN or a name; the file needs at least one of the columns.

No other column is accepted (a list of structures, not of people).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pandas as pd

from tierslieux.errors import SchemaError
from tierslieux.i18n import gettext as _
from tierslieux.model.structures import CATEGORIES
from tierslieux.model.types import Provenance
from tierslieux.sources._files import read_csv_strings, sha256_of

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["NETWORK_COLUMNS", "load_networks"]

#: Columns of a network list, in order.
NETWORK_COLUMNS: tuple[str, ...] = ("reseau", "siren", "nom", "categorie")
_DEFAULT_CATEGORY = "cae"
_SIREN = re.compile(r"^\d{9}$")


def _cell(value: Any) -> str | None:  # noqa: ANN401  (pandas cell)
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):  # noqa: PLR0124
        return None
    text = str(value).strip()
    return text or None


def load_networks(path: Path) -> tuple[pd.DataFrame, Provenance]:
    """Read a list of network members.

    Parameters
    ----------
    path
        CSV in the format of the module documentation.

    Returns
    -------
    tuple of pandas.DataFrame and Provenance
        Columns ``reseau``, ``siren``, ``nom``, ``categorie``, ``ligne`` (line in the
        file) and ``fichier``; and the provenance.

    Raises
    ------
    SourceError
        Missing or empty file.
    SchemaError
        Unknown or missing columns, a row without SIREN nor name, a SIREN that is not 9
        digits, an unknown category; every problem is listed with its line.
    """
    frame = read_csv_strings(path, role=_("liste de réseaux"))
    by_key = {str(c).strip().lower(): c for c in frame.columns}
    unknown = [c for c in frame.columns if str(c).strip().lower() not in NETWORK_COLUMNS]
    if unknown or "reseau" not in by_key or not ({"siren", "nom"} & by_key.keys()):
        raise SchemaError(
            _(
                "{path}, ligne 1 : colonnes attendues : reseau (obligatoire), siren et/ou nom, "
                "categorie (facultative) ; trouvé : {found}.",
                path=path,
                found=", ".join(str(c) for c in frame.columns),
            )
        )
    problems: list[str] = []
    records: list[dict[str, object]] = []
    for index, row in enumerate(frame.to_dict("records")):
        line = index + 2
        values = {key: _cell(row[column]) for key, column in by_key.items()}
        siren = values.get("siren")
        if siren is not None:
            siren = siren.replace(" ", "")
        nom = values.get("nom")
        categorie = values.get("categorie") or _DEFAULT_CATEGORY
        reseau = values.get("reseau")
        where = _("{path}, ligne {n}", path=path, n=line)
        if reseau is None:
            problems.append(_("{where} : nom du réseau (colonne reseau) vide.", where=where))
        if siren is None and nom is None:
            problems.append(_("{where} : ni SIREN ni nom.", where=where))
        if siren is not None and not _SIREN.match(siren):
            problems.append(
                _(
                    "{where} : SIREN « {value} » invalide (9 chiffres attendus).",
                    where=where,
                    value=siren,
                )
            )
        if categorie not in CATEGORIES:
            problems.append(
                _(
                    "{where} : catégorie « {value} » inconnue (attendu : {expected}).",
                    where=where,
                    value=categorie,
                    expected=", ".join(CATEGORIES),
                )
            )
        records.append(
            {
                "reseau": reseau,
                "siren": siren,
                "nom": nom,
                "categorie": categorie,
                "ligne": line,
                "fichier": path.name,
            }
        )
    if problems:
        raise SchemaError(" ".join(problems))
    result = pd.DataFrame(records, columns=[*NETWORK_COLUMNS, "ligne", "fichier"])
    provenance = Provenance(
        role="reseaux",
        location=str(path),
        sha256=sha256_of(path),
        notes=(
            _(
                "Liste de réseaux fournie par l'utilisateur : {n} membre(s) de {k} réseau(x).",
                n=len(result),
                k=result["reseau"].nunique(),
            ),
        ),
    )
    return result, provenance
