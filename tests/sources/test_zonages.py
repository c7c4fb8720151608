"""Tests of the zonings reader: CSV extracts, INSEE workbooks (written here), real files."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook

from tierslieux.errors import SchemaError, SourceError
from tierslieux.sources.zonages import Zonages, load_zonages

TITLE_ROWS = [
    ["Table d'appartenance géographique des communes au 1er janvier 2024"],
    ["Découpage communal en vigueur au 1er janvier 2024"],
    ["Source : Insee, code officiel géographique au 1er janvier 2024"],
    [],
]
COM_LABELS = [
    "Code géographique",
    "Libellé géographique",
    "Département",
    "Région",
    "EPCI",
    "Nature d'EPCI",
    "Arrondissement",
    "Canton ville",
    "Zone d'emploi 2020",
    "Unité urbaine 2020",
    "Tranche d'unité urbaine 2020 calculée sur la population 2017",
    "Tranche détaillée d'unité urbaine 2020 calculée sur la population 2017",
    "Aire d'attraction des villes 2020",
    "Tranche d'aire d'attraction des villes 2020 calculée sur la population 2017",
    "Tranche détaillée d'aire d'attraction des villes 2020 calculée sur la population 2017",
    "Catégorie de la commune dans le zonage en aires d'attraction des villes 2020",
    "Bassin de vie 2022",
]
COM_HEADER = [
    "CODGEO",
    "LIBGEO",
    "DEP",
    "REG",
    "EPCI",
    "NATURE_EPCI",
    "ARR",
    "CV",
    "ZE2020",
    "UU2020",
    "TUU2017",
    "TDUU2017",
    "AAV2020",
    "TAAV2017",
    "TDAAV2017",
    "CATEAAV2020",
    "BV2022",
]
# Hand-written test rows (zone codes are test values in the INSEE shapes).
COM_ROWS = [
    [
        "05023",
        "Briançon",
        "05",
        "93",
        "240500439",
        "CC",
        "051",
        "0598",
        "9302",
        "05301",
        "2",
        "21",
        "290",
        "1",
        "13",
        11,
        "05023",
    ],
    [
        "05061",
        "Gap",
        "05",
        "93",
        "200067825",
        "CA",
        "052",
        "0599",
        "9310",
        "05401",
        "4",
        "42",
        "119",
        "2",
        "22",
        11,
        "05061",
    ],
    [
        "05179",
        "Veynes",
        "05",
        "93",
        "200067445",
        "CC",
        "052",
        "0515",
        "9310",
        "05105",
        "1",
        "11",
        "119",
        "2",
        "22",
        20,
        "05179",
    ],
    [
        "05118",
        "Val Buëch-Méouge",
        "05",
        "93",
        "200067445",
        "CC",
        "052",
        "0515",
        "9310",
        "ZZZZZ",
        "0",
        "00",
        "000",
        "0",
        "00",
        30,
        "05179",
    ],
]
SUPRA_ROWS = [
    ["NIVGEO", "CODGEO", "LIBGEO", "NB_COM"],
    ["BV2022", "05023", "Briançon", 13],
    ["BV2022", "05061", "Gap", 30],
    ["BV2022", "05179", "Veynes", 15],
    ["EPCI", "200067825", "CA Gap-Tallard-Durance", 17],
]


def _workbook(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    book = Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


@pytest.fixture
def appartenance_xlsx(tmp_path: Path) -> Path:
    """The INSEE workbook layout: title rows, French labels, then the variable names."""
    return _workbook(
        tmp_path / "table-appartenance-geo-communes-2024.xlsx",
        {
            "COM": [*TITLE_ROWS, COM_LABELS, COM_HEADER, *COM_ROWS],
            "ARM": [*TITLE_ROWS, ["Code géographique"], ["CODGEO", "LIBGEO", "COM"]],
            "Zones_supra_communales": [
                *TITLE_ROWS,
                ["Niveau", "Code", "Libellé", "Nombre"],
                *SUPRA_ROWS,
            ],
            "Variables": [["Variable", "Libellé"], ["CODGEO", "Code géographique"]],
        },
    )


@pytest.fixture
def folder(data_dir: Path) -> Path:
    return data_dir / "zonages"


# --- CSV --------------------------------------------------------------------------------


def test_csv_2024_with_sibling_labels(folder: Path) -> None:
    zonages = load_zonages(folder / "table_supracom_2024_extrait.csv")
    table = zonages.table
    assert list(table.columns[:2]) == ["code", "bv2022"]
    assert {
        "aav2020",
        "ze2020",
        "uu2020",
        "epci",
        "dep",
        "reg",
        "arr",
        "ctcd",
        "ept",
        "canov",
    } <= set(table.columns)
    assert "libgeo" not in table.columns
    assert len(table) == 8
    assert table["code"].is_unique
    assert table["ept"].isna().all()  # ZZZZZZZZZ = not applicable
    gap = table.set_index("code").loc["05061"]
    assert (gap["bv2022"], gap["epci"], gap["aav2020"], gap["dep"]) == (
        "05061",
        "200067825",
        "119",
        "05",
    )
    assert zonages.labels["bv2022"]["04070"] == "Digne-les-Bains"
    assert zonages.labels["epci"]["200067825"] == "CA Gap-Tallard-Durance"
    assert zonages.provenance.vintage == "COG 2024"
    assert zonages.provenance.role == "zonages"
    assert any("libelles_supracom_2024_extrait.csv" in n for n in zonages.provenance.notes)


def test_csv_2023_layout_without_labels(folder: Path) -> None:
    zonages = load_zonages(folder / "table_supracom_2023_extrait.csv")
    assert list(zonages.table.columns[:4]) == ["code", "bv2022", "aav2020", "cateaav2020"]
    assert zonages.table.set_index("code").loc["05179", "cateaav2020"] == "20"
    assert zonages.labels == {}


def test_explicit_labels(folder: Path) -> None:
    zonages = load_zonages(
        folder / "table_supracom_2023_extrait.csv", folder / "libelles_supracom_2024_extrait.csv"
    )
    assert zonages.labels["dep"]["05"] == "Hautes-Alpes"


@pytest.mark.parametrize(
    ("name", "error", "match"),
    [
        ("table_supracom_2024_sans_codgeo.csv", SchemaError, "ligne d'en-tête introuvable"),
        ("table_supracom_2024_doublons.csv", SchemaError, r"05061 \(lignes 2, 4\)"),
        ("table_supracom_2024_code_invalide.csv", SchemaError, "ligne 3 : « 5A179 »"),
        ("absent_2024.csv", SourceError, "introuvable"),
    ],
)
def test_invalid_csv(folder: Path, name: str, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match) as caught:
        load_zonages(folder / name)
    assert name in str(caught.value)


def test_empty_and_header_only(tmp_path: Path) -> None:
    empty = tmp_path / "table_supracom_2024.csv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(SourceError, match="vide"):
        load_zonages(empty)
    empty.write_text("CODGEO,LIBGEO,BV2022\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="aucune commune"):
        load_zonages(empty)


def test_identical_duplicates_are_merged(tmp_path: Path) -> None:
    path = tmp_path / "zonages.csv"
    path.write_text("CODGEO;BV2022\n05061;05061\n05061;05061\n", encoding="utf-8")
    assert list(load_zonages(path).table["code"]) == ["05061"]


# --- INSEE workbooks --------------------------------------------------------------------


def _check_workbook(zonages: Zonages) -> None:
    table = zonages.table.set_index("code")
    assert len(table) == 4
    assert list(zonages.table.columns[:6]) == [
        "code",
        "bv2022",
        "aav2020",
        "cateaav2020",
        "taav2017",
        "ze2020",
    ]
    assert table.loc["05061", "cateaav2020"] == "11"  # numeric cell read as text
    assert table.loc["05118", "bv2022"] == "05179"
    assert pd.isna(table.loc["05118", "uu2020"])  # ZZZZZ
    assert table.loc["05023", "dep"] == "05"
    assert zonages.labels["bv2022"] == {"05023": "Briançon", "05061": "Gap", "05179": "Veynes"}
    assert zonages.provenance.vintage == "COG 2024"


def test_xlsx_appartenance(appartenance_xlsx: Path) -> None:
    _check_workbook(load_zonages(appartenance_xlsx))


def test_xlsx_in_zip(appartenance_xlsx: Path, tmp_path: Path) -> None:
    archive = tmp_path / "table-appartenance-geo-communes-2024.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(appartenance_xlsx, appartenance_xlsx.name)
    _check_workbook(load_zonages(archive))


def test_truncated_zip(appartenance_xlsx: Path, tmp_path: Path) -> None:
    archive = tmp_path / "table-appartenance-geo-communes-2024.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(appartenance_xlsx, appartenance_xlsx.name)
    data = archive.read_bytes()
    archive.write_bytes(data[: len(data) // 2])
    with pytest.raises(SourceError, match="tronquée"):
        load_zonages(archive)


def test_zip_without_workbook(tmp_path: Path) -> None:
    archive = tmp_path / "table-appartenance-geo-communes-2024.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("lisez-moi.txt", "rien")
    with pytest.raises(SourceError, match=r"aucun fichier \.xlsx"):
        load_zonages(archive)


def test_corrupt_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "table-appartenance-geo-communes-2024.xlsx"
    path.write_bytes(b"PK\x03\x04 pas un classeur")
    with pytest.raises(SourceError, match="illisible"):
        load_zonages(path)


def test_xlsx_without_header(tmp_path: Path) -> None:
    path = _workbook(
        tmp_path / "table-appartenance-geo-communes-2024.xlsx",
        {"COM": [*TITLE_ROWS, ["A", "B"], ["05061", "Gap"]]},
    )
    with pytest.raises(SchemaError, match=r"feuille COM.*ligne d'en-tête introuvable"):
        load_zonages(path)


def test_epci_composition_workbook(tmp_path: Path) -> None:
    title = [["Composition communale des EPCI au 1er janvier 2024"], [], [], []]
    path = _workbook(
        tmp_path / "EPCI_au_01-01-2024.xlsx",
        {
            "EPCI": [
                *title,
                ["Libellé"],
                ["EPCI", "LIBEPCI", "NATURE_EPCI", "NB_COM"],
                ["200067825", "CA Gap-Tallard-Durance", "CA", 17],
                ["200067445", "CC Buëch-Dévoluy", "CC", 38],
            ],
            "Composition_communale": [
                *title,
                ["Code géographique", "Libellé", "EPCI", "Libellé EPCI", "Dép.", "Rég."],
                ["CODGEO", "LIBGEO", "EPCI", "LIBEPCI", "DEP", "REG"],
                ["05061", "Gap", "200067825", "CA Gap-Tallard-Durance", "05", "93"],
                ["05179", "Veynes", "200067445", "CC Buëch-Dévoluy", "05", "93"],
            ],
        },
    )
    zonages = load_zonages(path)
    assert list(zonages.table.columns) == ["code", "epci", "dep", "reg"]
    assert zonages.labels["epci"] == {
        "200067825": "CA Gap-Tallard-Durance",
        "200067445": "CC Buëch-Dévoluy",
    }


# --- real extracts ----------------------------------------------------------------------


@pytest.mark.shared
def test_real_2024_paca(shared_real: Path) -> None:
    zonages = load_zonages(shared_real / "zonages" / "table_supracom_2024_PACA.csv")
    assert len(zonages.table) == 946
    assert zonages.table["code"].is_unique
    assert zonages.table["bv2022"].nunique() == 92
    assert zonages.table["bv2022"].notna().all()
    assert set(zonages.table["bv2022"]) <= set(zonages.labels["bv2022"])
    assert zonages.provenance.vintage == "COG 2024"


@pytest.mark.shared
def test_real_2023_paca(shared_real: Path) -> None:
    zonages = load_zonages(shared_real / "zonages" / "table_supracom_2023_PACA.csv")
    assert len(zonages.table) == 946
    counts = zonages.table["cateaav2020"].value_counts().to_dict()
    assert counts == {"20": 601, "30": 268, "11": 45, "12": 26, "13": 6}


def test_label_counts_of_communes_are_kept(data_dir: Path) -> None:
    zonages = load_zonages(data_dir / "zonages" / "table_supracom_2024_extrait.csv")
    # NB_COM of the labels: the size of the whole bassin de vie, to mark partial ones.
    assert zonages.sizes["bv2022"]["04070"] == 28
    assert zonages.sizes["bv2022"]["05023"] == 13


def test_invalid_label_count_names_file_and_line(data_dir: Path, tmp_path: Path) -> None:
    table = tmp_path / "table_supracom_2024_x.csv"
    table.write_bytes((data_dir / "zonages" / "table_supracom_2024_extrait.csv").read_bytes())
    labels = tmp_path / "libelles_supracom_2024_x.csv"
    labels.write_text(
        "NIVGEO,CODGEO,LIBGEO,NB_COM\nBV2022,04070,Digne-les-Bains,28\nBV2022,04112,Manosque,douze\n",
        encoding="utf-8",
    )
    with pytest.raises(SchemaError, match=r"ligne 3 : NB_COM « douze » invalide"):
        load_zonages(table, labels)
