"""Tests of the OSRM engine against a simulated server (httpx.MockTransport)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest

from tierslieux.errors import SourceError
from tierslieux.model.traveltime import TravelTimeEngine
from tierslieux.sources.osrm import OsrmEngine

BASE = "http://osrm.test:5000"


def fake_seconds(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Fake road time: 1 minute per 0.01 degree of Manhattan distance."""
    return round((abs(lon1 - lon2) + abs(lat1 - lat2)) * 100 * 60, 3)


@dataclass
class FakeOsrm:
    """A tiny OSRM /table server; records every request."""

    fail_first: int = 0
    status: int = 503
    answer_code: str = "Ok"
    no_route: set[tuple[int, int]] = field(default_factory=set)  # (source row, dest col)
    requests: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if len(self.requests) <= self.fail_first:
            return httpx.Response(self.status, text="Service Unavailable")
        if self.answer_code != "Ok":
            return httpx.Response(
                400, json={"code": self.answer_code, "message": "Query string malformed"}
            )
        prefix = "/table/v1/driving/"
        assert request.url.path.startswith(prefix)
        coords = [
            tuple(map(float, c.split(","))) for c in request.url.path[len(prefix) :].split(";")
        ]
        sources = [int(i) for i in request.url.params["sources"].split(";")]
        destinations = [int(i) for i in request.url.params["destinations"].split(";")]
        assert request.url.params["annotations"] == "duration"
        durations = [
            [
                None if (a, b) in self.no_route else fake_seconds(*coords[s], *coords[d])
                for b, d in enumerate(destinations)
            ]
            for a, s in enumerate(sources)
        ]
        return httpx.Response(200, json={"code": "Ok", "durations": durations})

    def shapes(self) -> list[tuple[int, int]]:
        return [
            (len(r.url.params["sources"].split(";")), len(r.url.params["destinations"].split(";")))
            for r in self.requests
        ]


def engine(server: FakeOsrm, **options: object) -> OsrmEngine:
    client = httpx.Client(transport=httpx.MockTransport(server))
    return OsrmEngine(BASE, client=client, backoff_seconds=0.0, **options)  # type: ignore[arg-type]


POINTS = pd.DataFrame(
    {
        "code": ["05061", "05179", "05023", "04088", "2A004"],
        "latitude": [44.50, 44.55, 44.60, 44.65, 41.92],
        "longitude": [6.00, 6.05, 6.10, 6.15, 8.74],
    }
)


def test_between_minutes_and_batching() -> None:
    server = FakeOsrm()
    osrm = engine(server, batch_size=4)
    assert isinstance(osrm, TravelTimeEngine)
    origins = ["05061", "05179", "05023"]
    destinations = ["05179", "05023", "04088", "2A004"]
    pairs = pd.DataFrame(
        [(o, d) for o in origins for d in destinations], columns=["origin", "destination"]
    ).set_index(pd.RangeIndex(100, 112))
    minutes = osrm.between(pairs, POINTS)
    assert minutes.index.equals(pairs.index)
    xy = {c: (lon, lat) for c, lat, lon in POINTS.itertuples(index=False)}
    for (o, d), value in zip(pairs.itertuples(index=False), minutes, strict=True):
        if o == d:
            assert value == 0.0
        else:
            expected = fake_seconds(*xy[o], *xy[d]) / 60
            assert value == pytest.approx(expected)
    # 3 origins x 4 destinations (self pairs are not asked), at most 4 cells and 4
    # coordinates per request: 2 origins x 2 destinations per block.
    assert all(s * d <= 4 and s + d <= 4 for s, d in server.shapes())
    assert len(server.requests) == 4
    assert osrm.requests_sent == 4


def test_retry_after_503() -> None:
    server = FakeOsrm(fail_first=2)
    osrm = engine(server, retries=3)
    pairs = pd.DataFrame({"origin": ["05061"], "destination": ["05179"]})
    minutes = osrm.between(pairs, POINTS)
    assert minutes.iloc[0] == pytest.approx(10.0)  # 0.05 + 0.05 degree -> 10 minutes
    assert len(server.requests) == 3


def test_unreachable_server_after_retries() -> None:
    server = FakeOsrm(fail_first=100)
    osrm = engine(server, retries=2)
    with pytest.raises(SourceError, match=r"injoignable.*osrm\.test.*HTTP 503.*3 tentative"):
        osrm.between(pd.DataFrame({"origin": ["05061"], "destination": ["05179"]}), POINTS)
    assert len(server.requests) == 3


def test_network_error() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Connection refused", request=request)

    client = httpx.Client(transport=httpx.MockTransport(refuse))
    osrm = OsrmEngine(BASE, client=client, retries=1, backoff_seconds=0.0)
    with pytest.raises(
        SourceError, match=r"injoignable : http://osrm\.test:5000/table.*Connection refused"
    ):
        osrm.between(pd.DataFrame({"origin": ["05061"], "destination": ["05179"]}), POINTS)


def test_bad_answer_code() -> None:
    osrm = engine(FakeOsrm(answer_code="InvalidQuery"))
    with pytest.raises(SourceError, match=r"refusé.*osrm\.test.*InvalidQuery"):
        osrm.between(pd.DataFrame({"origin": ["05061"], "destination": ["05179"]}), POINTS)


def test_cache_hit_on_second_call(tmp_path: Path) -> None:
    server = FakeOsrm()
    pairs = pd.DataFrame({"origin": ["05061", "05061"], "destination": ["05179", "05023"]})
    first = engine(server, cache_dir=tmp_path).between(pairs, POINTS)
    assert len(server.requests) == 1
    assert list((tmp_path / "osrm").glob("*.json"))
    second_server = FakeOsrm()
    second = engine(second_server, cache_dir=tmp_path).between(pairs, POINTS)
    assert second_server.requests == []
    pd.testing.assert_series_equal(first, second)
    # Another server address is another cache key.
    other = FakeOsrm()
    client = httpx.Client(transport=httpx.MockTransport(other))
    OsrmEngine("http://other:5000", client=client, cache_dir=tmp_path).between(pairs, POINTS)
    assert len(other.requests) == 1


def test_null_durations_are_nan() -> None:
    server = FakeOsrm(no_route={(0, 1)})
    pairs = pd.DataFrame({"origin": ["05061", "05061"], "destination": ["05179", "05023"]})
    minutes = engine(server).between(pairs, POINTS)
    assert minutes.iloc[0] == pytest.approx(10.0)
    assert math.isnan(minutes.iloc[1])


def test_missing_coordinates_are_nan() -> None:
    pts = POINTS.assign(latitude=POINTS["latitude"].where(POINTS["code"] != "05023"))
    server = FakeOsrm()
    pairs = pd.DataFrame(
        {"origin": ["05061", "05061", "05023"], "destination": ["05023", "05179", "05023"]}
    )
    minutes = engine(server).between(pairs, pts)
    assert np.isnan(minutes.iloc[0])
    assert minutes.iloc[1] == pytest.approx(10.0)
    assert minutes.iloc[2] == 0.0
    assert len(server.requests) == 1


def test_within_prunes_far_pairs() -> None:
    server = FakeOsrm()
    osrm = engine(server)
    od = osrm.within(POINTS, POINTS, 25.0)
    # Fake times: 05061-05179 10 min, -05023 20 min, -04088 30 min; Ajaccio is far away.
    assert od.to_dict("list") == {
        "origin": [
            "04088",
            "04088",
            "04088",
            "05023",
            "05023",
            "05023",
            "05023",
            "05061",
            "05061",
            "05061",
            "05179",
            "05179",
            "05179",
            "05179",
            "2A004",
        ],
        "destination": [
            "04088",
            "05023",
            "05179",
            "04088",
            "05023",
            "05061",
            "05179",
            "05023",
            "05061",
            "05179",
            "04088",
            "05023",
            "05061",
            "05179",
            "2A004",
        ],
        "minutes": [
            0.0,
            10.0,
            20.0,
            10.0,
            0.0,
            20.0,
            10.0,
            20.0,
            0.0,
            10.0,
            20.0,
            10.0,
            10.0,
            0.0,
            0.0,
        ],
    }
    asked: set[str] = set()
    for request in server.requests:
        asked |= set(request.url.path.split("/")[-1].split(";"))
    # 25 minutes at 130 km/h is 54 km: Ajaccio (about 300 km away) is never asked.
    assert "8.740000,41.920000" not in asked
    assert osrm.parameters() == {
        "engine": "osrm",
        "base_url": BASE,
        "profile": "driving",
        "prune_speed_kmh": 130.0,
    }
