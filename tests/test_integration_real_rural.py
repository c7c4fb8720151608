"""Rural focus on the real PACA extracts of ../shared/data/real (skipped when absent).

No density grid is shipped there: rurality is the zonings proxy (UU2020, CATEAAV2020 of
``table_supracom_2023_PACA.csv``).  The census is synthetic (generated here).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tierslieux.config import Settings
from tierslieux.model.rurality import RuralDefinition
from tierslieux.pipeline import rurality, synthesise_mobpro_for
from tierslieux.pipeline.sites import SitesRequest, run_sites
from tierslieux.sources.zonages import load_zonages

#: Marseille, Mougins, Sanary-sur-Mer, Saint-Cyr-sur-Mer: the urban communes that led
#: the PACA site tables before the rural option (issue 9).
URBAN_LEADERS = {"13055", "06085", "83123", "83112"}


@pytest.fixture
def paca(shared_real: Path, tmp_path: Path) -> tuple[Settings, SitesRequest]:
    settings = Settings(cache_dir=tmp_path / "cache", offline=True)
    communes = (shared_real / "communes" / "communes.csv",)
    mobpro = synthesise_mobpro_for(
        settings, communes, tmp_path / "FD_MOBPRO_2021.csv", territory="region:93", seed=3,
        rows=30_000,
    )  # fmt: skip
    request = SitesRequest(
        territory="region:93",
        count=10,
        communes=communes,
        zonages=shared_real / "zonages" / "table_supracom_2023_PACA.csv",
        mobpro=mobpro,
        rural="candidats",
    )
    return settings, request


def test_proxy_on_paca(shared_real: Path) -> None:
    zonages = load_zonages(shared_real / "zonages" / "table_supracom_2023_PACA.csv")
    table, definition = rurality(list(zonages.table["code"]), zonages, None)
    assert definition == RuralDefinition.PROXY
    assert int(table["rural"].sum()) == 588  # 544 outside any urban unit, 44 more CATEAAV 30
    flags = table.set_index("code")["rural"]
    assert not flags.reindex(sorted(URBAN_LEADERS)).any()
    assert flags["04039"]  # Castellane: outside any urban unit


def test_rural_sites_on_paca_leave_the_cities(paca: tuple[Settings, SitesRequest]) -> None:
    settings, request = paca
    result = run_sites(settings, request)
    assert len(result.sites) == 10
    assert result.sites["rural"].all()
    assert not set(result.sites["code"]) & URBAN_LEADERS
