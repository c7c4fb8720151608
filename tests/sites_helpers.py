"""Helpers shared by the site-selection tests (not a test module)."""

from __future__ import annotations

import csv
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

_CGET_HEADER = (
    "ID,NOM_TL,ADRESSE,CP,COMINIT,INSEECOM,NOMCOM,WEB,TWITTER,FACEBOOK,TYPO,LAT,LONG,GEOCOD,"
    "PRECISION,CONTACT,MAIL,METRO,NOMMETRO,INSEEREG,NOMREG,INSEEMETRO,INSEEDEP,NOMCOMMETRO,"
    "POPCOM,COMCLASS,INSEE_ZE,NOM_ZE,CLASS_ZE,POP_ZE\n"
)


def write_cget(path: Path, *codes: str) -> Path:
    """Write a tiny CGET-format census with one place per code (coordinates unused)."""
    lines = [
        f"{i},Lieu Test {i},1 Rue Fictive,00000,Bourg,{code},Bourg,,,,"
        f"Tiers lieux à dominante coworking,45.0,5.0,adresse,0.9,,,0,,00,Fictive,{code},00,"
        "Bourg,1000,0-5000,0000,ZE,0,1000"
        for i, code in enumerate(codes, start=1)
    ]
    path.write_text(_CGET_HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def read_rows(path: Path) -> list[dict[str, str]]:
    """Rows of a comma-separated UTF-8 output file, as strings."""
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def border_mobpro(fixture: Path, folder: Path) -> Path:
    """The border fixture's census (``fixture``: ``tests/data/frontiere``) plus 8
    independent workers living in Sisteron (04209), just outside the territory: potential
    users the sites count.  Written into ``folder``."""
    mobpro = folder / "FD_MOBPRO_2021_frontiere.csv"
    lines = (fixture / "FD_MOBPRO_2021_frontiere.csv").read_text(encoding="utf-8").splitlines()
    fields = lines[5].split(";")
    assert fields[0] == "04209"
    fields[7], fields[15] = "21", "8.0"  # EMPL independent, IPONDI
    mobpro.write_text("\n".join([*lines, ";".join(fields)]) + "\n", encoding="utf-8")
    return mobpro
