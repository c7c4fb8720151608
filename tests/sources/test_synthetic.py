"""Tests of the synthetic MOBPRO writer."""

from __future__ import annotations

import json
import time

import duckdb
import numpy as np
import pandas as pd
import pytest

from tierslieux.errors import SchemaError
from tierslieux.sources.mobpro import open_mobpro
from tierslieux.sources.synthetic import (
    EMPLOYED_SHARE_OF_POPULATION,
    MOBPRO_HEADER,
    write_synthetic_mobpro,
)


def _communes() -> pd.DataFrame:
    # Approximate centroids; populations and counts are test values.
    return pd.DataFrame(
        {
            "code": ["05061", "05023", "05179", "13055", "04070"],
            "nom": ["Gap", "Briançon", "Veynes", "Marseille", "Digne-les-Bains"],
            "latitude": [44.5594, 44.8986, 44.5339, 43.2965, 44.0925],
            "longitude": [6.0786, 6.6436, 5.8231, 5.3698, 6.2356],
            "population": [40000, 11000, 3000, 870000, 16000],
            "pop_active_15_64": [18000, 5200, 1300, 380000, pd.NA],
            "pop_chomeurs_15_64": [1800, 400, 150, 60000, pd.NA],
        }
    )


def _expected_employed() -> dict[str, float]:
    return {
        "05061": 16200.0,
        "05023": 4800.0,
        "05179": 1150.0,
        "13055": 320000.0,
        # No counts: population x national share of persons in employment.
        "04070": 16000 * EMPLOYED_SHARE_OF_POPULATION,
    }


@pytest.fixture
def con():
    connection = duckdb.connect()
    yield connection
    connection.close()


def test_sums_header_sidecar_and_provenance(con, tmp_path, data_dir):
    out = write_synthetic_mobpro(
        _communes(), tmp_path / "mobpro_synthetique_2021.csv", seed=3, target_rows=20_000
    )
    assert out == tmp_path / "mobpro_synthetique_2021.csv"
    header = out.read_text(encoding="utf-8").splitlines()[0].split(";")
    assert tuple(header) == MOBPRO_HEADER
    official = (data_dir / "mobpro" / "FD_MOBPRO_2021_extrait.csv").read_text().splitlines()[0]
    assert tuple(official.split(";")) == MOBPRO_HEADER

    sidecar = out.with_name(out.name + ".synthetic.json")
    meta = json.loads(sidecar.read_text(encoding="utf-8"))
    assert meta["synthetic"] is True
    assert meta["generator"] == "tierslieux synth mobpro"
    assert meta["seed"] == 3
    assert {s["variable"] for s in meta["sources"]} >= {"CS1", "SEXE", "EMPL", "NA17", "TRANS"}

    result = open_mobpro(out, con, cache_dir=tmp_path / "cache")
    assert result.kind == "detail"
    assert result.vintage == "RP2021"
    assert result.provenance.synthetic is True
    assert result.missing == ()
    sums = dict(con.execute("SELECT residence, sum(weight) FROM mobpro GROUP BY 1").fetchall())
    expected = _expected_employed()
    assert set(sums) == set(expected)
    for code, value in expected.items():
        assert sums[code] == pytest.approx(value, rel=1e-6), code
    rows = con.execute("SELECT count(*) FROM mobpro").fetchone()[0]
    assert 19_000 <= rows <= 21_000


def test_codes_are_consistent(con, tmp_path):
    out = write_synthetic_mobpro(_communes(), tmp_path / "synth.csv", seed=1, target_rows=5_000)
    raw = pd.read_csv(out, sep=";", dtype=str, keep_default_na=False)
    marseille = raw[raw["COMMUNE"] == "13055"]
    assert marseille["ARM"].between("13201", "13216").all()
    assert (raw.loc[raw["COMMUNE"] != "13055", "ARM"] == "ZZZZZ").all()
    assert set(raw["AGEREVQ"]) <= {f"{a:03d}" for a in range(15, 70, 5)}
    assert set(raw["TRANS"]) <= {"1", "2", "3", "4", "5", "6"}
    assert (raw["DCFLT"] == "").all()

    open_mobpro(out, con, cache_dir=tmp_path / "cache")
    checks = con.execute(
        "SELECT "
        "count(*) FILTER (WHERE (ilt = '1') != (residence = workplace)), "
        "count(*) FILTER (WHERE ilt = '2' AND left(residence, 2) != left(workplace, 2)), "
        "count(*) FILTER (WHERE ilt = '3' AND left(residence, 2) = left(workplace, 2)), "
        "count(*) FILTER (WHERE trans = '1' AND ilt != '1'), "
        "count(*) FILTER (WHERE workplace_abroad) "
        "FROM mobpro"
    ).fetchone()
    assert checks == (0, 0, 0, 0, 0)


def test_deterministic_with_seed(tmp_path):
    a = write_synthetic_mobpro(_communes(), tmp_path / "a_synth.csv", seed=5, target_rows=3_000)
    b = write_synthetic_mobpro(_communes(), tmp_path / "b_synth.csv", seed=5, target_rows=3_000)
    c = write_synthetic_mobpro(_communes(), tmp_path / "c_synth.csv", seed=6, target_rows=3_000)
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()


def test_name_says_synthetic_and_caps(tmp_path):
    out = write_synthetic_mobpro(
        _communes(), tmp_path / "FD_MOBPRO_2021.csv", seed=0, rows_per_commune_max=100
    )
    assert out.name == "FD_MOBPRO_2021_synthetique.csv"
    assert out.with_name(out.name + ".synthetic.json").is_file()
    assert not (tmp_path / "FD_MOBPRO_2021.csv").exists()
    raw = pd.read_csv(out, sep=";", dtype=str)
    assert raw.groupby("COMMUNE").size().max() == 100
    folder = write_synthetic_mobpro(_communes(), tmp_path, seed=0, target_rows=500)
    assert folder == tmp_path / "mobpro_synthetique_2021.csv"


def test_invalid_inputs(tmp_path):
    with pytest.raises(SchemaError, match="longitude"):
        write_synthetic_mobpro(_communes().drop(columns="longitude"), tmp_path / "s_synth.csv")
    duplicated = pd.concat([_communes(), _communes().iloc[:1]])
    with pytest.raises(SchemaError, match="en double : 05061"):
        write_synthetic_mobpro(duplicated, tmp_path / "s_synth.csv")
    with pytest.raises(ValueError, match="Millésime 2015"):
        write_synthetic_mobpro(_communes(), tmp_path / "s_synth.csv", vintage=2015)
    nothing = _communes()
    nothing.loc[4, "population"] = pd.NA
    with pytest.raises(SchemaError, match="04070"):
        write_synthetic_mobpro(nothing, tmp_path / "s_synth.csv")


def test_500k_rows_in_a_few_seconds(tmp_path):
    rng = np.random.default_rng(0)
    size = 2_000
    communes = pd.DataFrame(
        {
            "code": [f"{38000 + i:05d}" for i in range(size)],
            "nom": [f"Commune {i}" for i in range(size)],
            "latitude": rng.uniform(44.0, 46.0, size),
            "longitude": rng.uniform(4.5, 7.0, size),
            "population": rng.integers(50, 20_000, size),
            "pop_active_15_64": pd.NA,
            "pop_chomeurs_15_64": pd.NA,
        }
    )
    start = time.perf_counter()
    out = write_synthetic_mobpro(communes, tmp_path / "big_synth.csv", target_rows=500_000)
    elapsed = time.perf_counter() - start
    with out.open(encoding="utf-8") as handle:
        lines = sum(1 for _ in handle) - 1
    assert 490_000 <= lines <= 510_000
    assert elapsed < 30, elapsed


@pytest.mark.shared
def test_real_communes_of_hautes_alpes(con, tmp_path, shared_real):
    frame = pd.read_csv(shared_real / "communes" / "communes.csv", dtype=str)
    frame = frame[(frame["commune_type"] == "COM") & (frame["insee_dep"] == "05")]
    frame = frame.drop_duplicates("insee_com")
    assert len(frame) == 162
    communes = pd.DataFrame(
        {
            "code": frame["insee_com"],
            "nom": frame["commune"],
            "latitude": pd.to_numeric(frame["lat"]),
            "longitude": pd.to_numeric(frame["lng"]),
            "population": pd.to_numeric(frame["population_2021"]),
            "pop_active_15_64": pd.to_numeric(frame["pop_15_64_active_2021"]),
            "pop_chomeurs_15_64": pd.to_numeric(frame["pop_15_64_chomage_2021"]),
        }
    )
    out = write_synthetic_mobpro(communes, tmp_path / "mobpro_05_synthetique.csv", seed=0)
    result = open_mobpro(out, con, cache_dir=tmp_path / "cache")
    assert result.provenance.synthetic is True
    sums = dict(con.execute("SELECT residence, sum(weight) FROM mobpro GROUP BY 1").fetchall())
    employed = (communes["pop_active_15_64"] - communes["pop_chomeurs_15_64"]).clip(lower=0)
    expected = dict(zip(communes["code"], employed, strict=True))
    positive = {code: value for code, value in expected.items() if value > 0}
    assert set(sums) == set(positive)
    for code, value in positive.items():
        assert sums[code] == pytest.approx(value, rel=1e-6), code
    # Every destination is one of the 162 communes (the model has no outside world).
    outside = con.execute(
        "SELECT count(*) FROM mobpro WHERE workplace NOT IN (SELECT DISTINCT residence FROM mobpro)"
    ).fetchone()
    assert outside in {(0,), (1,), (2,), (3,)}
