"""Downloads: cache, checksum, atomicity, clear errors (httpx mock, no network)."""

from __future__ import annotations

import gzip
import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tierslieux.errors import DownloadError, SchemaError
from tierslieux.files import atomic_path, clean_partial_files
from tierslieux.sources._http import download, read_meta
from tierslieux.sources.catalog import fetch_dataset, load_catalog

BODY = b"CODGEO;LIBGEO;DCLT;L_DCLT;NBFLUX_C22_ACTOCC15P\n05061;Gap;05061;Gap;100\n"


def _client(calls: list[str], status: int = 200, body: bytes = BODY) -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        return httpx.Response(status, content=body)

    return httpx.Client(transport=httpx.MockTransport(handler))


def test_download_caches_and_records_checksum(tmp_path: Path) -> None:
    calls: list[str] = []
    target = tmp_path / "flux.csv"
    path = download(
        "https://example.org/flux.csv",
        target,
        vintage="RP2022",
        client=_client(calls),
        progress=False,
    )
    assert path.read_bytes() == BODY
    meta = read_meta(target)
    assert meta["sha256"] == hashlib.sha256(BODY).hexdigest()
    assert meta["vintage"] == "RP2022"
    download("https://example.org/flux.csv", target, client=_client(calls), progress=False)
    assert len(calls) == 1  # second call served from the cache


def test_checksum_mismatch_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "flux.csv"
    with pytest.raises(DownloadError, match="somme de contrôle"):
        download(
            "https://example.org/flux.csv",
            target,
            expected_sha256="0" * 64,
            client=_client([]),
            progress=False,
        )
    assert list(tmp_path.iterdir()) == []


def test_http_error_names_url_and_folder(tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match=r"https://example.org/absent.csv.*à la main"):
        download(
            "https://example.org/absent.csv",
            tmp_path / "a.csv",
            client=_client([], status=404),
            progress=False,
        )
    assert not (tmp_path / "a.csv").exists()


def test_gzip_is_decompressed(tmp_path: Path) -> None:
    path = download(
        "https://example.org/c.geojson.gz",
        tmp_path / "c.geojson.gz",
        client=_client([], body=gzip.compress(b'{"type": "FeatureCollection"}')),
        progress=False,
    )
    assert path.name == "c.geojson"
    assert path.read_bytes() == b'{"type": "FeatureCollection"}'


def test_catalog_packaged_and_override(tmp_path: Path) -> None:
    catalog = load_catalog()
    assert catalog["mobpro-2021"].url.endswith("RP2021_mobpro.parquet")
    override = tmp_path / "catalogue.toml"
    override.write_text(
        '[mobpro-2021]\nurl = "https://miroir.example/RP2021_mobpro.parquet"\n', encoding="utf-8"
    )
    assert load_catalog(override)["mobpro-2021"].url.startswith("https://miroir.example")
    bad = tmp_path / "bad.toml"
    bad.write_text("[x]\nurl = \n", encoding="utf-8")
    with pytest.raises(SchemaError, match="TOML invalide"):
        load_catalog(bad)


def test_fetch_dataset_uses_cache_folder(tmp_path: Path) -> None:
    dataset = load_catalog()["flux-2022"]
    path = fetch_dataset(dataset, tmp_path, client=_client([]), progress=False)
    assert path == tmp_path / "flux-2022" / dataset.filename


_INTERRUPTED_DOWNLOAD = """
import sys, time
from pathlib import Path
import httpx
from tierslieux.sources._http import download

def body():
    yield b"CODGEO;LIBGEO\\n"
    print("streaming", flush=True)
    time.sleep(60)
    yield b"05061;Gap\\n"

def handler(request):
    return httpx.Response(200, content=body())

client = httpx.Client(transport=httpx.MockTransport(handler))
download("https://example.org/flux.csv", Path(sys.argv[1]), client=client, progress=False)
"""


def test_partial_file_of_an_interrupted_download_is_removed_at_the_next_run(
    tmp_path: Path,
) -> None:
    target = tmp_path / "flux.csv"
    with subprocess.Popen(  # noqa: S603 - the test's own interpreter
        [sys.executable, "-c", _INTERRUPTED_DOWNLOAD, str(target)],
        stdout=subprocess.PIPE,
        text=True,
    ) as child:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "streaming"
        child.kill()  # as a power cut or kill -9: no clean-up by the process itself
        child.wait()
    parts = [p for p in tmp_path.iterdir() if p.name.endswith(".part")]
    assert len(parts) == 1
    assert parts[0].name.startswith(".flux.csv.")
    assert not target.exists()
    calls: list[str] = []
    assert (
        download(
            "https://example.org/flux.csv", target, client=_client(calls), progress=False
        ).read_bytes()
        == BODY
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["flux.csv", "flux.csv.meta.json"]


def test_partial_files_of_live_or_unknown_writers_are_kept(tmp_path: Path) -> None:
    with atomic_path(tmp_path / "a.csv") as live:
        assert clean_partial_files(tmp_path) == []
        assert live.exists()
    # Another host's (or an older version's) file: removed only when a day old.
    other = tmp_path / ".b.csv.abcdef-1-0123abcd.part"
    old_style = tmp_path / ".c.csv.0123abcd.part"
    for path in (other, old_style):
        path.write_bytes(b"x")
    assert clean_partial_files(tmp_path) == []
    day_ago = time.time() - 2 * 86400
    os.utime(other, (day_ago, day_ago))
    os.utime(old_style, (day_ago, day_ago))
    assert sorted(clean_partial_files(tmp_path)) == sorted([other, old_style])
    assert [p.name for p in tmp_path.iterdir()] == ["a.csv"]
