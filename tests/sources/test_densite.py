"""Tests of the INSEE density-grid reader: CSV files by hand, workbooks written here."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from tierslieux.errors import SchemaError, SourceError
from tierslieux.sources.densite import load_densite

DATA = Path(__file__).resolve().parents[1] / "data" / "densite"

TITLE_ROWS = [
    ["Grille communale de densité"],
    ["Découpage communal en vigueur au 1er janvier 2025"],
    ["Source : Insee, grille communale de densité 2025"],
]
#: Sheet ``Maille communale`` of ``fichier_diffusion_2025.xlsx``: French labels row, then
#: the variable names (row 5), then one row per commune.
DIFFUSION_LABELS = [
    "Code géographique",
    "Libellé géographique",
    "Degré de densité de la commune (3 niveaux)",
    "Libellé du degré de densité (3 niveaux)",
    "Population municipale 2022",
    "Part de la population en zone dense",
    "Part de la population en zone intermédiaire",
    "Part de la population en zone rurale",
    "Degré de densité et aire d'attraction des villes",
    "Libellé du degré de densité et aire d'attraction des villes",
    "Degré de densité de la commune (7 niveaux)",
    "Libellé du degré de densité (7 niveaux)",
]
DIFFUSION_HEADER = [
    "CODGEO",
    "LIBGEO",
    "DENS",
    "LIBDENS",
    "PMUN22",
    "P1",
    "P2",
    "P3",
    "DENS_AAV",
    "LIBDENS_AAV",
    "DENS7",
    "LIBDENS7",
]
DIFFUSION_ROWS = [
    ["04039", "Castellane", 3, "Rural", 1500, 0, 0, 100, 4, "Rural non périurbain", 6,
     "Rural à habitat dispersé"],
    ["05061", "Gap", 2, "Urbain intermédiaire", 40000, 0, 80, 20, 2, "Urbain intermédiaire",
     2, "Centres urbains intermédiaires"],
    [13055, "Marseille", 1, "Urbain dense", 870000, 95, 5, 0, 1, "Urbain dense", 1,
     "Grands centres urbains"],
]  # fmt: skip


def _diffusion_workbook(path: Path) -> Path:
    book = Workbook()
    epci = book.active
    epci.title = "Maille EPCI"
    for row in [*TITLE_ROWS, ["EPCI"], ["EPCI", "LIBEPCI", "DENS"], ["200067452", "CA", 2]]:
        epci.append(row)
    sheet = book.create_sheet("Maille communale")
    for row in [*TITLE_ROWS, DIFFUSION_LABELS, DIFFUSION_HEADER, *DIFFUSION_ROWS]:
        sheet.append(row)
    book.save(path)
    return path


def _seven_level_workbook(path: Path) -> Path:
    """``grille_densite_7_niveaux_2024.xlsx``: 4 title rows, header row 5, DENS 1-7."""
    book = Workbook()
    sheet = book.active
    sheet.title = "Grille_Densite"
    rows = [
        *TITLE_ROWS,
        [],
        ["CODGEO", "LIBGEO", "DENS", "LIBDENS", "PMUN21"],
        ["04039", "Castellane", 6, "Rural à habitat dispersé", 1500],
        [5061, "Gap", 2, "Centres urbains intermédiaires", 40000],
    ]
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def _levels(path: Path) -> dict[str, str]:
    return load_densite(path).levels()


def test_datagouv_communes_file() -> None:
    levels = _levels(DATA / "communes-france-2025.csv")
    assert levels == {
        "04039": "6",
        "05061": "2",
        "05173": "7",
        "13055": "1",
        "83112": "4",
    }


def test_insee_csv_with_title_rows_and_lost_leading_zero() -> None:
    densite = load_densite(DATA / "grille_densite_7_niveaux_2024.csv")
    levels = densite.levels()
    assert levels["05173"] == "7"  # written 5173 in the file
    assert levels["2A004"] == "2"
    assert densite.provenance.vintage == "grille 2024"
    assert densite.provenance.sha256


def test_insee_2024_workbook(tmp_path: Path) -> None:
    path = _seven_level_workbook(tmp_path / "grille_densite_7_niveaux_2024.xlsx")
    assert _levels(path) == {"04039": "6", "05061": "2"}


def test_insee_2025_workbook_takes_dens7_of_the_commune_sheet(tmp_path: Path) -> None:
    path = _diffusion_workbook(tmp_path / "fichier_diffusion_2025.xlsx")
    # DENS is the 3-level grid there: DENS7 is read, in sheet "Maille communale".
    assert _levels(path) == {"04039": "6", "05061": "2", "13055": "1"}


def test_workbook_in_zip(tmp_path: Path) -> None:
    book = _diffusion_workbook(tmp_path / "fichier_diffusion_2025.xlsx")
    archive = tmp_path / "grille_densite_2025.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.write(book, book.name)
    assert _levels(archive)["13055"] == "1"


def test_truncated_zip_is_explained(tmp_path: Path) -> None:
    archive = tmp_path / "grille_densite_2025.zip"
    archive.write_bytes(b"PK\x03\x04 tronque")
    with pytest.raises(SourceError, match=r"grille de densité.*illisible ou tronquée"):
        load_densite(archive)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("grille_densite_niveau_invalide.csv", r"ligne 3 : niveau de densité « 8 » pour 05061"),
        ("grille_densite_code_invalide.csv", r"ligne 3 : code commune « 0506X1 »"),
        ("grille_densite_doublon.csv", r"plusieurs fois.*04039 \(lignes 2, 4\)"),
        ("grille_densite_3_niveaux.csv", r"grille de densité à 3 niveaux"),
        ("grille_densite_sans_colonne.csv", r"en-tête de la grille de densité introuvable"),
    ],
)
def test_invalid_files_are_explained(name: str, expected: str) -> None:
    with pytest.raises(SchemaError, match=expected) as error:
        load_densite(DATA / name)
    assert name in str(error.value)


def test_missing_file_is_explained(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="introuvable"):
        load_densite(tmp_path / "grille_densite_7_niveaux_2024.xlsx")


def test_many_rows_below_four_without_labels_is_a_three_level_grid(tmp_path: Path) -> None:
    path = tmp_path / "grille.csv"
    body = "".join(f"{4000 + i:05d};{1 + i % 3}\n" for i in range(1, 120))
    path.write_text("CODGEO;DENS\n" + body, encoding="utf-8")
    with pytest.raises(SchemaError, match="3 niveaux"):
        load_densite(path)
