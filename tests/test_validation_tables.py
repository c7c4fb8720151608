"""``--teletravail`` and ``--demand`` files: every value checked, with line and column (issue 11)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from tierslieux.errors import SchemaError
from tierslieux.pipeline.inputs import teleworkable_shares
from tierslieux.pipeline.readers import read_demand_table


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_teleworkable_unknown_cs1_refused(tmp_path):
    path = _write(tmp_path / "parts.csv", "cs1,part\n1,0.1\n9,0.5\n3,0.7\nX,2\n")
    with pytest.raises(SchemaError) as info:
        teleworkable_shares(path)
    text = str(info.value)
    assert "ligne 3, colonne cs1 : code « 9 » inconnu" in text
    assert "1, 2, 3, 4, 5, 6" in text
    # Gathered: the bad code and the bad share of line 5 are both reported.
    assert "ligne 5, colonne cs1 : code « X » inconnu" in text
    assert "ligne 5 : part « 2 » invalide" in text


def test_teleworkable_duplicate_cs1_refused(tmp_path):
    path = _write(tmp_path / "parts.csv", "cs1,part\n1,0.1\n1,0.5\n")
    with pytest.raises(SchemaError, match="ligne 3, colonne cs1 : code « 1 » déjà donné"):
        teleworkable_shares(path)


def test_teleworkable_valid_file(tmp_path):
    path = _write(tmp_path / "parts.csv", 'cs1,part,source\n1,0.1,x\n3,"0,7",x\n')
    shares, source = teleworkable_shares(path)
    assert shares == {"1": 0.1, "3": 0.7}
    assert source == "x"


@pytest.mark.parametrize(
    ("cells", "column", "shown"),
    [
        ("05061,-3,12", "demand", "-3"),
        ("05061,inf,12", "demand", "inf"),
        ("05061,nan,12", "demand", "nan"),
        ("05061,,12", "demand", ""),
        ("05061,abc,12", "demand", "abc"),
        ("05061,3,-1", "km", "-1"),
        ("05061,3,inf", "km", "inf"),
        ("05061,3,douze", "km", "douze"),
    ],
)
def test_demand_bad_values_refused_with_line(tmp_path, cells, column, shown):
    path = _write(tmp_path / "demande.csv", f"code,demand,km\n05023,2,5\n{cells}\n")
    with pytest.raises(SchemaError) as info:
        read_demand_table(path)
    assert f"ligne 3, colonne {column} : valeur « {shown} » invalide" in str(info.value)


def test_demand_valid_and_empty_km(tmp_path):
    path = _write(tmp_path / "demande.csv", 'code,demand,km\n05023,2,5\n05061,"1,5",\n')
    keys, demand, km = read_demand_table(path)
    assert keys.tolist() == ["05023", "05061"]
    assert demand.tolist() == [2.0, 1.5]
    assert km is not None
    assert km.iloc[0] == 5.0
    assert math.isnan(km.iloc[1])


def test_demand_problems_gathered(tmp_path):
    path = _write(tmp_path / "demande.csv", "code,demand\n05023,-2\n05023,x\n")
    with pytest.raises(SchemaError) as info:
        read_demand_table(path)
    text = str(info.value)
    assert "ligne 2, colonne demand" in text
    assert "ligne 3, colonne demand" in text
    assert "code(s) en double : 05023" in text
