"""Faults: zip bombs refused, staging folders of killed runs removed, re-used --out folders."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from tierslieux.errors import SourceError
from tierslieux.files import (
    MANIFEST,
    ZipLimits,
    atomic_output_dir,
    clean_staging,
    extract_member,
    open_zip,
    write_output_files,
)
from tierslieux.sources._files import extract_zip_member

MB = 1_000_000


def _bomb(path: Path, size: int = 300 * MB) -> Path:
    """An archive whose one member is ``size`` bytes of zeros (ratio about 1000)."""
    with (
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        archive.open("zeros.csv", "w", force_zip64=True) as member,
    ):
        block = b"0" * MB
        for _ in range(size // MB):
            member.write(block)
    return path


def test_zip_bomb_is_refused_and_nothing_is_extracted(tmp_path: Path) -> None:
    archive = _bomb(tmp_path / "bombe.zip")
    assert archive.stat().st_size < 2 * MB
    cache = tmp_path / "cache"
    with pytest.raises(SourceError, match=r"zeros\.csv se décompresse \d+ fois"):
        extract_zip_member(archive, (".csv",), dest=cache, role="test")
    assert not cache.exists() or list(cache.iterdir()) == []
    with pytest.raises(SourceError, match="TIERSLIEUX_ZIP_MAX_RATIO"), open_zip(archive, role="t"):
        pass


def test_limits_are_configurable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    archive = _bomb(tmp_path / "bombe.zip", 20 * MB)
    monkeypatch.setenv("TIERSLIEUX_ZIP_MAX_RATIO", "5000")
    target = extract_zip_member(archive, (".csv",), dest=tmp_path / "c", role="test")
    assert target.stat().st_size == 20 * MB
    monkeypatch.setenv("TIERSLIEUX_ZIP_MAX_MEMBER_GB", "0,01")
    with pytest.raises(SourceError, match=r"au plus 0\.01 Go"):
        extract_zip_member(archive, (".csv",), dest=tmp_path / "d", role="test")
    monkeypatch.setenv("TIERSLIEUX_ZIP_MAX_RATIO", "inf")
    with pytest.raises(SourceError, match="Réglage TIERSLIEUX_ZIP_MAX_RATIO invalide"):
        ZipLimits.from_environment()


def test_defaults_accept_real_national_archives() -> None:
    # Sirene StockEtablissement: about 2 GB zipped, 6 GB unzipped.
    info = zipfile.ZipInfo("StockEtablissement_utf8.csv")
    info.file_size, info.compress_size = 6_000_000_000, 2_000_000_000
    ZipLimits().check(info, path="stock.zip", role="Sirene")
    info.file_size = 21_000_000_000
    with pytest.raises(SourceError, match=r"21\.0 Go"):
        ZipLimits().check(info, path="stock.zip", role="Sirene")


def test_member_longer_than_declared_leaves_no_file(tmp_path: Path) -> None:
    archive_path = tmp_path / "a.zip"
    with zipfile.ZipFile(archive_path, "w") as archive:
        archive.writestr("a.csv", b"x" * 1000)
    target = tmp_path / "out" / "a.csv"
    with zipfile.ZipFile(archive_path) as archive:
        info = archive.getinfo("a.csv")
        info.file_size = 10  # a lying header
        with pytest.raises((SourceError, zipfile.BadZipFile)):
            extract_member(archive, info, target, path=archive_path, role="t")
    assert not target.exists()
    assert [p.name for p in target.parent.iterdir()] == []


def _killed_run(out: Path) -> Path:
    """Run a writer in a child process and kill it (SIGKILL) inside the staging block."""
    code = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from tierslieux.files import atomic_output_dir\n"
        "with atomic_output_dir(Path(sys.argv[1])) as staging:\n"
        "    (staging / 'a.csv').write_text('partiel')\n"
        "    print(staging, flush=True)\n"
        "    time.sleep(60)\n"
    )
    with subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", code, str(out)], stdout=subprocess.PIPE, text=True
    ) as child:
        assert child.stdout is not None
        staging = Path(child.stdout.readline().strip())
        child.kill()
        child.wait()
    return staging


def test_staging_folder_of_a_killed_run_is_removed(tmp_path: Path) -> None:
    out = tmp_path / "sortie"
    staging = _killed_run(out)
    assert staging.is_dir()
    assert staging.name.startswith(".sortie.")
    write_output_files(out, [("b.csv", b"b")])
    assert not staging.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sortie"]


def test_staging_folder_of_a_live_run_is_kept(tmp_path: Path) -> None:
    out = tmp_path / "sortie"
    with atomic_output_dir(out) as staging:
        assert clean_staging(out) == []
        assert staging.is_dir()
    # Without an owner record, only an old folder is taken for a left-over.
    old = tmp_path / ".sortie.abcd1234"
    old.mkdir()
    assert clean_staging(out) == []
    day_ago = time.time() - 2 * 86400
    os.utime(old, (day_ago, day_ago))
    assert clean_staging(out) == [old]
    assert not old.exists()


def test_out_reused_replaces_the_files_of_the_same_command(tmp_path: Path) -> None:
    out = tmp_path / "sortie"
    write_output_files(out, [("sites.csv", b"1"), ("sites_2.csv", b"1")], owner="sites")
    write_output_files(out, [("communes.csv", b"c")], owner="diagnose")
    (out / "notes.txt").write_text("à moi", encoding="utf-8")
    write_output_files(out, [("sites.csv", b"2")], owner="sites")
    names = sorted(p.name for p in out.iterdir())
    assert names == [MANIFEST, "communes.csv", "notes.txt", "sites.csv"]
    assert (out / "sites.csv").read_bytes() == b"2"
    # The manifest is not a trap: a name outside the folder is never removed.
    (out / MANIFEST).write_text('{"commandes": {"sites": ["../dehors.txt"]}}', encoding="utf-8")
    (tmp_path / "dehors.txt").write_text("x", encoding="utf-8")
    write_output_files(out, [("sites.csv", b"3")], owner="sites")
    assert (tmp_path / "dehors.txt").exists()


def test_out_naming_a_file_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "fichier.csv"
    out.write_text("x", encoding="utf-8")
    with pytest.raises(SourceError, match="est un fichier"):
        write_output_files(out, [("a.csv", b"a")])
