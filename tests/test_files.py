"""tierslieux.files: atomic writes, zip opening, the spreadsheet CSV writer and its guard."""

from __future__ import annotations

import csv
import io
import os
import stat
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from tierslieux.errors import SourceError, StoreError
from tierslieux.files import (
    atomic_open,
    atomic_output_dir,
    atomic_path,
    atomic_write_bytes,
    atomic_write_text,
    frame_spreadsheet_csv,
    open_zip,
    spreadsheet_safe,
    spreadsheet_unguard,
    write_output_files,
    write_spreadsheet_csv,
)
from tierslieux.sources._files import extract_zip_member, read_csv_strings, zip_member_names

#: Texts a spreadsheet would run as formulas (CSV injection), and harmless ones.
FORMULAS = ('=HYPERLINK("http://x.invalid","clic")', "\t=1+1", "@SUM(A1:A2)", "-2+3", "+33 4")
HARMLESS = ("Coop Démo", "l'atelier", "2+3", "", "a=b")


def _only(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --- atomic writes ---------------------------------------------------------------------


def test_atomic_write_replaces_and_leaves_no_staging_file(tmp_path: Path) -> None:
    target = tmp_path / "sous" / "a.txt"
    assert atomic_write_text(target, "un") == target
    atomic_write_bytes(target, b"deux")
    assert target.read_bytes() == b"deux"
    assert _only(target.parent) == ["a.txt"]


def test_failed_write_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "a.csv"
    target.write_text("ancien", encoding="utf-8")

    def failing_writer() -> None:
        with atomic_open(target) as stream:
            stream.write("nouveau, à moitié")
            raise RuntimeError

    with pytest.raises(RuntimeError):
        failing_writer()
    assert target.read_text(encoding="utf-8") == "ancien"
    assert _only(tmp_path) == ["a.csv"]


def test_failing_rename_keeps_the_old_file_and_names_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "a.csv"
    target.write_text("ancien", encoding="utf-8")

    def refuse(self: Path, other: Path) -> Path:
        raise PermissionError(13, "refusé")

    monkeypatch.setattr(Path, "replace", refuse)
    with pytest.raises(SourceError, match=r"Impossible d'écrire .*a\.csv"):
        atomic_write_text(target, "nouveau")
    with pytest.raises(StoreError, match="Impossible d'écrire"):
        atomic_write_text(target, "nouveau", error_type=StoreError)
    assert target.read_text(encoding="utf-8") == "ancien"
    assert _only(tmp_path) == ["a.csv"]


def test_failing_fsync_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "a.bin"
    target.write_bytes(b"ancien")

    def broken(_fd: int) -> None:
        raise OSError(5, "disque plein")

    monkeypatch.setattr(os, "fsync", broken)
    with pytest.raises(SourceError, match="disque plein"):
        atomic_write_bytes(target, b"nouveau")
    assert target.read_bytes() == b"ancien"
    assert _only(tmp_path) == ["a.bin"]


def test_atomic_path_for_tools_that_write_to_a_path(tmp_path: Path) -> None:
    target = tmp_path / "cache.parquet"
    with atomic_path(target) as staging:
        assert staging.parent == tmp_path
        assert staging.exists()
        assert not target.exists()  # nothing visible until the block succeeds
        pd.DataFrame({"a": [1, 2]}).to_parquet(staging, index=False)
    assert pd.read_parquet(target)["a"].tolist() == [1, 2]
    assert _only(tmp_path) == ["cache.parquet"]


def test_private_files_are_readable_by_their_owner_only(tmp_path: Path) -> None:
    private = atomic_write_text(tmp_path / "rgpd.json", "{}", private=True)
    shared = atomic_write_text(tmp_path / "report.html", "<p>")
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert stat.S_IMODE(shared.stat().st_mode) & 0o044  # the umask, like any file


def test_output_folder_all_or_nothing(tmp_path: Path) -> None:
    out = tmp_path / "sortie"
    out.mkdir()
    (out / "ancien.csv").write_text("x", encoding="utf-8")

    def files() -> list[tuple[str, bytes]]:
        raise RuntimeError  # a renderer failing after the first file

    def failing() -> None:
        with atomic_output_dir(out) as staging:
            (staging / "a.csv").write_text("partiel", encoding="utf-8")
            files()

    with pytest.raises(RuntimeError):
        failing()
    assert _only(tmp_path) == ["sortie"]
    assert _only(out) == ["ancien.csv"]
    written = write_output_files(out, [("b.csv", b"b"), ("a.html", b"<p>")])
    assert written == [out / "b.csv", out / "a.html"]
    assert _only(out) == ["a.html", "ancien.csv", "b.csv"]
    assert _only(tmp_path) == ["sortie"]


# --- zip archives ----------------------------------------------------------------------


def test_truncated_zip_has_the_one_message(tmp_path: Path) -> None:
    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("a.csv", "x;y\n" * 1000)
    archive.write_bytes(archive.read_bytes()[:-30])
    expected = r"L'archive communes .*a\.zip est illisible ou tronquée .* Téléchargez-la de nouveau"
    with pytest.raises(SourceError, match=expected), open_zip(archive, role="communes"):
        pass
    with pytest.raises(SourceError, match=expected):
        zip_member_names(archive, role="communes")
    with pytest.raises(SourceError, match=expected):
        extract_zip_member(archive, (".csv",), dest=tmp_path / "x", role="communes")


def test_zip_member_is_extracted_atomically(tmp_path: Path) -> None:
    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("dossier/a.csv", "x;y\n1;2\n")
    dest = tmp_path / "cache"
    target = extract_zip_member(archive, (".csv",), dest=dest, role="r")
    assert target.read_text(encoding="utf-8") == "x;y\n1;2\n"
    assert _only(dest) == ["a.csv"]


def test_corrupt_member_read_inside_the_block_has_the_message(tmp_path: Path) -> None:
    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("a.csv", "0123456789" * 100)
    data = bytearray(archive.read_bytes())
    data[100] ^= 0xFF  # flip one byte of the member: bad CRC when read
    archive.write_bytes(bytes(data))
    with (
        pytest.raises(SourceError, match="illisible ou tronquée"),
        open_zip(archive, role="r") as zf,
    ):
        zf.read("a.csv")


# --- the spreadsheet guard -------------------------------------------------------------


@pytest.mark.parametrize("text", FORMULAS)
def test_formulas_are_guarded_and_unguarded(text: str) -> None:
    guarded = spreadsheet_safe(text)
    assert guarded == "'" + text
    assert spreadsheet_unguard(guarded) == text


@pytest.mark.parametrize("text", [*HARMLESS, "  =1+1", "'=1", "''@x", "'plain"])
def test_guard_round_trips_every_text(text: str) -> None:
    assert spreadsheet_unguard(spreadsheet_safe(text)) == text


def test_guard_also_after_leading_spaces() -> None:
    assert spreadsheet_safe("  =1+1") == "'  =1+1"
    assert spreadsheet_safe("\r=1") == "'\r=1"
    for text in HARMLESS:
        assert spreadsheet_safe(text) == text


def test_write_spreadsheet_csv_to_a_path_and_a_stream(tmp_path: Path) -> None:
    rows = [[name, -2.5, None, float("nan"), 3] for name in FORMULAS]
    path = tmp_path / "export.csv"
    assert write_spreadsheet_csv(path, ["nom", "x", "vide", "nan", "n"], rows) == len(FORMULAS)
    with path.open(encoding="utf-8", newline="") as handle:
        read = list(csv.reader(handle, delimiter=";"))
    assert read[0] == ["nom", "x", "vide", "nan", "n"]
    assert [r[0] for r in read[1:]] == ["'" + t for t in FORMULAS]
    assert read[1][1:] == ["-2.5", "", "", "3"]  # numbers are never guarded
    stream = io.StringIO(newline="")
    write_spreadsheet_csv(stream, ["a"], [["=1"]], delimiter=",")
    assert stream.getvalue() == "a\r\n'=1\r\n"
    write_spreadsheet_csv(tmp_path / "bom.csv", ["a"], [], bom=True)
    assert (tmp_path / "bom.csv").read_bytes().startswith(b"\xef\xbb\xbfa")


def test_frame_csv_guards_text_and_reads_back_unguarded(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "nom": [*FORMULAS, "Coop Démo"],
            "valeur": [-2.5, -1.0, 0.0, 1.0, 2.0, 3.0],
            "texte": pd.array(["-x", None, "y", "z", "@", "ok"], dtype="string"),
        }
    )
    data = frame_spreadsheet_csv(frame)
    lines = data.decode("utf-8").splitlines()
    assert lines[1].startswith("\"'=HYPERLINK(")
    assert ",-2.5," in lines[1]
    assert lines[4].startswith("'-2+3,1.0,")
    path = tmp_path / "structures.csv"
    path.write_bytes(data)
    back = read_csv_strings(path, role="structures")
    assert back["nom"].tolist() == frame["nom"].tolist()
    assert back["texte"].fillna("").tolist() == ["-x", "", "y", "z", "@", "ok"]
