"""Tests of the communes reader on hand-written files (tests/data/communes) and real extracts."""

from __future__ import annotations

import gzip
import json
import math
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import shape

from tierslieux.errors import SchemaError, SourceError
from tierslieux.model.types import Provenance
from tierslieux.sources.catalog import source_name
from tierslieux.sources.communes import (
    COMMUNE_COLUMNS,
    Communes,
    load_commune_list,
    load_communes,
    merge_communes,
)

# Populations of the 16 Marseille arrondissements in communes_extrait.csv (test values),
# added by hand: 40000 + 24000 + 53000 + 50000 + 46000 + 43000 + 35000 + 81000 + 77000
# + 56000 + 58000 + 63000 + 92000 + 61000 + 77000 + 16000 = 872000.
MARSEILLE_POPULATION = 872_000.0
EARTH_RADIUS_KM = 6371.0088


@pytest.fixture
def folder(data_dir: Path) -> Path:
    return data_dir / "communes"


def _box_area_km2(lon0: float, lat0: float, lon1: float, lat1: float) -> float:
    """Area of a lon/lat box on a sphere (independent check of the geodesic area)."""
    return (
        EARTH_RADIUS_KM**2
        * math.radians(lon1 - lon0)
        * (math.sin(math.radians(lat1)) - math.sin(math.radians(lat0)))
    )


def _row(communes: Communes, code: str) -> pd.Series:
    table = communes.table.set_index("code")
    return table.loc[code]


# --- canonical table --------------------------------------------------------------------


def test_csv_columns_dtypes_and_order(folder: Path) -> None:
    communes = load_communes(folder / "communes_extrait.csv")
    table = communes.table
    assert tuple(table.columns[: len(COMMUNE_COLUMNS)]) == COMMUNE_COLUMNS
    assert table["code"].is_unique
    assert table["latitude"].dtype == np.float64
    assert table["population"].dtype == pd.Float64Dtype()
    assert table["surface_km2"].dtype == pd.Float64Dtype()
    assert list(table["code"]) == sorted(table["code"])
    assert communes.geometries == {}


def test_csv_postcodes_deduplicated_comd_dropped(folder: Path) -> None:
    communes = load_communes(folder / "communes_extrait.csv")
    codes = list(communes.table["code"])
    # 7 COM (Gap on two rows) + Marseille rebuilt; the COMD row (Ribiers, 05118) is dropped.
    assert codes == ["04070", "04112", "05023", "05046", "05061", "05118", "05179", "13055"]
    assert _row(communes, "05118")["nom"] == "Val Buëch-Méouge"
    gap = _row(communes, "05061")
    assert gap["population"] == 40000
    assert gap["pop_active_15_64"] == 18000
    assert gap["pop_chomeurs_15_64"] == 2000
    assert gap["surface_km2"] == pytest.approx(110.4)
    assert (gap["dep"], gap["reg"]) == ("05", "93")
    assert pd.isna(gap["epci"])
    assert any("déléguées" in note for note in communes.provenance.notes)


def test_csv_marseille_rebuilt_from_arrondissements(folder: Path) -> None:
    communes = load_communes(folder / "communes_extrait.csv")
    marseille = _row(communes, "13055")
    assert marseille["nom"] == "Marseille"
    assert marseille["population"] == MARSEILLE_POPULATION
    assert (marseille["dep"], marseille["reg"]) == ("13", "93")
    raw = pd.read_csv(folder / "communes_extrait.csv", dtype={"insee_com": str})
    arm = raw[raw["commune_type"] == "ARM"]
    weights = arm["population_2021"]
    expected_lat = float((arm["lat"] * weights).sum() / weights.sum())
    assert marseille["latitude"] == pytest.approx(expected_lat)
    assert marseille["surface_km2"] == pytest.approx(arm["superficie_km2"].sum())
    assert not communes.table["code"].str.startswith("132").any()
    assert any("16 arrondissements" in note for note in communes.provenance.notes)


def test_partial_arrondissements_leave_counts_empty(folder: Path, tmp_path: Path) -> None:
    lines = (folder / "communes_extrait.csv").read_text(encoding="utf-8").splitlines()
    kept = [line for line in lines if not line.startswith(("1320", "1321"))]
    kept += [line for line in lines if line.startswith(("13201", "13205"))]
    path = tmp_path / "communes.csv"
    path.write_text("\n".join(kept) + "\n", encoding="utf-8")
    marseille = _row(load_communes(path), "13055")
    assert pd.isna(marseille["population"])
    assert not math.isnan(marseille["latitude"])


def test_provenance(folder: Path) -> None:
    path = folder / "communes-france-2024_extrait.csv"
    provenance = load_communes(path).provenance
    assert provenance.role == "communes"
    assert provenance.location == str(path)
    assert provenance.vintage == "2024"
    assert provenance.sha256 is not None
    assert len(provenance.sha256) == 64
    assert load_communes(folder / "communes_extrait.csv").provenance.vintage is None


def test_communes_france_layout_with_overseas_and_corsica(folder: Path) -> None:
    communes = load_communes(folder / "communes-france-2024_extrait.csv")
    table = communes.table
    assert list(table["code"]) == ["04070", "05023", "05061", "2A004", "97411"]
    assert not any(c.startswith("Unnamed") or not c for c in table.columns)
    reunion = _row(communes, "97411")
    assert reunion["dep"] == "974"
    assert reunion["latitude"] == pytest.approx(-20.933)  # centre, not the town hall
    assert _row(communes, "05023")["nom"] == "Briançon"
    assert _row(communes, "05061")["epci"] == "200067825"


def test_latin1_and_decimal_comma(folder: Path) -> None:
    communes = load_communes(folder / "communes_latin1.csv")
    briancon = _row(communes, "05023")
    assert briancon["nom"] == "Briançon"
    assert briancon["latitude"] == pytest.approx(44.8986)
    assert briancon["population"] == 11000


def test_geo_api_json_surface_in_hectares(folder: Path) -> None:
    communes = load_communes(folder / "communes_geo_api.json")
    gap = _row(communes, "05061")
    assert gap["surface_km2"] == pytest.approx(110.40)
    assert (gap["latitude"], gap["longitude"]) == (pytest.approx(44.5594), pytest.approx(6.0786))
    assert (gap["epci"], gap["dep"], gap["reg"]) == ("200067825", "05", "93")
    assert communes.geometries == {}
    assert any("ha" in note for note in communes.provenance.notes)


def test_geo_api_contours(folder: Path) -> None:
    communes = load_communes(folder / "communes_geo_api_contour.geojson")
    assert set(communes.geometries) == {"05061", "05179"}
    # the area given by the API (hectares) wins over the computed one
    assert _row(communes, "05179")["surface_km2"] == pytest.approx(45.6)


# --- geometries -------------------------------------------------------------------------


def test_geojson_centroids_and_areas(folder: Path) -> None:
    communes = load_communes(folder / "communes-05-contours.geojson")
    gap = _row(communes, "05061")
    assert gap["latitude"] == pytest.approx(44.56, abs=1e-3)
    assert gap["longitude"] == pytest.approx(6.08, abs=1e-3)
    assert gap["surface_km2"] == pytest.approx(_box_area_km2(6.03, 44.51, 6.13, 44.61), rel=5e-3)
    assert pd.isna(gap["population"])
    assert communes.geometries["05061"]["type"] == "Polygon"
    json.dumps(communes.geometries)  # serialisable as is


def test_concave_commune_centre_is_inside(folder: Path) -> None:
    communes = load_communes(folder / "communes-05-contours.geojson")
    embrun = _row(communes, "05046")
    polygon = shape(communes.geometries["05046"])
    assert not polygon.contains(polygon.centroid)  # the C shape of the test file
    assert polygon.contains(shapely.Point(embrun["longitude"], embrun["latitude"]))


def test_multipolygon_area_and_null_geometry(folder: Path) -> None:
    communes = load_communes(folder / "communes-05-contours.geojson")
    digne = _row(communes, "04070")
    expected = _box_area_km2(6.18, 44.05, 6.26, 44.13) + _box_area_km2(6.30, 44.05, 6.34, 44.09)
    assert digne["surface_km2"] == pytest.approx(expected, rel=5e-3)
    veynes = _row(communes, "05179")  # feature without geometry: kept, no centre
    assert math.isnan(veynes["latitude"])
    assert "05179" not in communes.geometries


def test_geojson_arrondissements_unioned(folder: Path) -> None:
    communes = load_communes(folder / "communes-05-contours.geojson")
    assert "13201" not in communes.geometries
    marseille = shape(communes.geometries["13055"])
    expected = _box_area_km2(5.36, 43.29, 5.39, 43.31) + _box_area_km2(5.33, 43.31, 5.39, 43.34)
    assert _row(communes, "13055")["surface_km2"] == pytest.approx(expected, rel=5e-3)
    assert marseille.is_valid


def test_geopackage_in_lambert93_is_reprojected(folder: Path, tmp_path: Path) -> None:
    pyogrio_raw = pytest.importorskip("pyogrio.raw")
    pyproj = pytest.importorskip("pyproj")
    to_l93 = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:2154", always_xy=True)
    square = shapely.box(6.03, 44.51, 6.13, 44.61)
    projected = shapely.transform(square, to_l93.transform, interleaved=False)
    path = tmp_path / "communes.gpkg"
    pyogrio_raw.write(
        path,
        np.array([shapely.to_wkb(projected)], dtype=object),
        [
            np.array(["05061"], dtype=object),
            np.array(["Gap"], dtype=object),
            np.array([40000], dtype=np.int64),
        ],
        fields=["INSEE_COM", "NOM", "POPULATION"],
        geometry_type="Polygon",
        crs="EPSG:2154",
        driver="GPKG",
    )
    communes = load_communes(path)
    gap = _row(communes, "05061")
    assert gap["population"] == 40000
    assert gap["longitude"] == pytest.approx(6.08, abs=1e-3)
    assert gap["surface_km2"] == pytest.approx(_box_area_km2(6.03, 44.51, 6.13, 44.61), rel=5e-3)
    assert any("EPSG:4326" in note for note in communes.provenance.notes)


def test_gzipped_geojson(folder: Path, tmp_path: Path) -> None:
    path = tmp_path / "communes-5m.geojson.gz"
    path.write_bytes(gzip.compress((folder / "communes-05-contours.geojson").read_bytes()))
    communes = load_communes(path)
    assert "05061" in communes.geometries
    assert _row(communes, "05061")["latitude"] == pytest.approx(44.56, abs=1e-3)


def test_geojson_points_give_centres(tmp_path: Path) -> None:
    path = tmp_path / "communes.geojson"
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [6.0786, 44.5594]},
        "properties": {"code": "05061", "nom": "Gap", "surface": 11040},
    }
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}), "utf-8")
    communes = load_communes(path)
    assert _row(communes, "05061")["latitude"] == pytest.approx(44.5594)
    assert _row(communes, "05061")["surface_km2"] == pytest.approx(110.40)
    assert communes.geometries == {}  # a point is a centre, not a contour


def test_zipped_shapefile(tmp_path: Path) -> None:
    pyogrio_raw = pytest.importorskip("pyogrio.raw")
    folder = tmp_path / "shp"
    folder.mkdir()
    pyogrio_raw.write(
        folder / "COMMUNE.shp",
        np.array([shapely.to_wkb(shapely.box(6.03, 44.51, 6.13, 44.61))], dtype=object),
        [np.array(["05061"], dtype=object), np.array(["Gap"], dtype=object)],
        fields=["INSEE_COM", "NOM"],
        geometry_type="Polygon",
        crs="EPSG:4326",
        driver="ESRI Shapefile",
    )
    archive = tmp_path / "ADMIN-EXPRESS.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for member in folder.iterdir():
            zf.write(member, f"ADMIN-EXPRESS/{member.name}")
    communes = load_communes(archive)
    assert list(communes.table["code"]) == ["05061"]
    assert _row(communes, "05061")["nom"] == "Gap"
    assert "05061" in communes.geometries


# --- invalid inputs ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "error", "match"),
    [
        ("communes_vide.csv", SourceError, "vide"),
        ("absent.csv", SourceError, "introuvable"),
        ("communes_sans_code.csv", SchemaError, "colonne code commune INSEE introuvable"),
        ("communes_separateur_inconnu.csv", SchemaError, "aucun séparateur"),
        ("communes_latlon_inversees.csv", SchemaError, r"ligne 3 : latitude 6\.6433.*inversées"),
        ("communes_encodage_invalide.csv", SchemaError, "encodage illisible"),
        (
            "communes_doublons_contradictoires.csv",
            SchemaError,
            r"05061 \(ligne 2, ligne 4\).*population",
        ),
        ("communes_geometrie_invalide.geojson", SchemaError, "entité 2 : géométrie illisible"),
        ("communes_tronque.geojson", SchemaError, "JSON invalide"),
    ],
)
def test_invalid_files(folder: Path, name: str, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match) as caught:
        load_communes(folder / name)
    assert name in str(caught.value)


def test_out_of_france_and_bad_numbers(tmp_path: Path) -> None:
    path = tmp_path / "communes.csv"
    path.write_text(
        "code,nom,lat,lon,population\n05061,Gap,60.1,6.07,40000\n05023,Briançon,44.9,6.64,onze\n",
        encoding="utf-8",
    )
    with pytest.raises(SchemaError) as caught:
        load_communes(path)
    message = str(caught.value)
    assert "ligne 2 : coordonnées latitude 60.1" in message
    assert "ligne 3, colonne population : « onze » n'est pas un nombre" in message


def test_bad_code(tmp_path: Path) -> None:
    path = tmp_path / "communes.csv"
    path.write_text("code,nom\n05061,Gap\n5A023,Briançon\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="ligne 3 : code commune « 5A023 » invalide"):
        load_communes(path)


def test_lost_leading_zero_is_restored(tmp_path: Path) -> None:
    path = tmp_path / "communes.csv"
    path.write_text("code,nom,lat,lon\n5061,Gap,44.5594,6.0786\n", encoding="utf-8")
    assert list(load_communes(path).table["code"]) == ["05061"]


def test_truncated_zip(folder: Path, tmp_path: Path) -> None:
    archive = tmp_path / "communes.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(folder / "communes-05-contours.geojson", "communes.geojson")
    data = archive.read_bytes()
    archive.write_bytes(data[: len(data) // 2])
    with pytest.raises(SourceError, match="tronquée"):
        load_communes(archive)


# --- merge ------------------------------------------------------------------------------


def test_merge_contours_with_populations(folder: Path) -> None:
    contours = load_communes(folder / "communes-05-contours.geojson")
    figures = load_communes(folder / "communes_extrait.csv")
    merged = merge_communes(contours, figures)
    gap = _row(merged, "05061")
    assert gap["population"] == 40000  # from the CSV
    assert gap["latitude"] == pytest.approx(44.56, abs=1e-3)  # the contours' centre kept
    assert gap["dep"] == "05"
    assert "code_postal" in merged.table.columns  # extra column of the CSV
    assert set(merged.table["code"]) == set(contours.table["code"])
    assert merged.geometries.keys() == contours.geometries.keys()
    assert str(folder / "communes_extrait.csv") in merged.provenance.location
    assert str(folder / "communes-05-contours.geojson") in merged.provenance.location
    # inputs untouched
    assert pd.isna(_row(contours, "05061")["population"])


def test_merge_fills_centres_from_extra_contours(folder: Path) -> None:
    figures = load_communes(folder / "communes_geo_api.json")
    contours = load_communes(folder / "communes-05-contours.geojson")
    table = figures.table.copy()
    table.loc[table["code"] == "05023", ["latitude", "longitude"]] = np.nan
    base = Communes(table=table, geometries={}, provenance=figures.provenance)
    merged = merge_communes(base, contours)
    assert _row(merged, "05023")["latitude"] == pytest.approx(44.90, abs=1e-3)
    assert "05023" in merged.geometries
    assert "04070" not in merged.geometries  # not a commune of the base
    assert any("ignoré" in note for note in merged.provenance.notes)


# --- lists ------------------------------------------------------------------------------


def test_commune_list_text(folder: Path) -> None:
    assert load_commune_list(folder / "liste_communes.txt") == ["05061", "05023", "05179", "13201"]


def test_commune_list_csv(folder: Path) -> None:
    assert load_commune_list(folder / "liste_communes.csv") == ["05061", "05023"]


def test_commune_list_invalid(folder: Path) -> None:
    with pytest.raises(SchemaError, match="ligne 2 : « Gap »") as caught:
        load_commune_list(folder / "liste_communes_invalide.txt")
    assert "ligne 3 : « 0502 »" not in str(caught.value)  # padded to 00502: a valid shape


def test_commune_list_empty(tmp_path: Path) -> None:
    path = tmp_path / "liste.txt"
    path.write_text("# rien\n\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="aucun code"):
        load_commune_list(path)


# --- real extracts ----------------------------------------------------------------------


@pytest.mark.shared
def test_real_communes_csv_paca(shared_real: Path) -> None:
    communes = load_communes(shared_real / "communes" / "communes.csv")
    table = communes.table
    assert table["code"].is_unique
    paca = table[table["reg"] == "93"]
    assert len(paca) == 946
    assert paca.groupby("dep").size().to_dict() == {
        "04": 198,
        "05": 162,
        "06": 163,
        "13": 119,
        "83": 153,
        "84": 151,
    }
    assert "13055" in set(paca["code"])
    assert paca[["latitude", "longitude"]].notna().all().all()
    for code in ("75056", "69123", "13055"):
        assert code in set(table["code"])
    assert not table["code"].str.match(r"^(751\d\d|6938\d|132\d\d)$").any()


@pytest.mark.shared
def test_real_paca_geojson(shared_real: Path) -> None:
    path = shared_real / "communes" / "communes-provence-alpes-cote-d-azur.geojson"
    communes = load_communes(path)
    assert len(communes.table) == 947  # includes 05120, merged since 2018
    assert len(communes.geometries) == 947
    assert "05120" in communes.geometries
    assert communes.table[["latitude", "longitude", "surface_km2"]].notna().all().all()


def test_source_name_is_the_official_name_or_the_file_name_never_a_path():
    downloaded = Provenance(
        role="communes", location="/srv/cache/downloads/contours-2026/communes-5m.geojson.gz"
    )
    assert source_name(downloaded) == "Contours des communes (IGN Admin Express, Etalab), 2026"
    merged = Provenance(
        role="communes",
        location="/home/app/donnees/communes.csv + /srv/cache/communes-geo-api.json",
    )
    assert source_name(merged) == "communes.csv + Communes (geo.api.gouv.fr), API Géo (en direct)"
