"""Front-end libraries: the npm lock, and the vendored copies against their manifest."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "src" / "tierslieux" / "web" / "static"
VENDOR = STATIC / "vendor"
#: What tools/vendor.py must copy (the pages load these and nothing else from npm).
EXPECTED = {
    "maplibre-gl.mjs": "maplibre-gl",
    "maplibre-gl-worker.mjs": "maplibre-gl",
    "maplibre-gl.css": "maplibre-gl",
    "maplibre-gl.LICENSE.txt": "maplibre-gl",
    "htmx.min.js": "htmx.org",
    "htmx.LICENSE.txt": "htmx.org",
    "axe.min.js": "axe-core",
    "axe-core.LICENSE.txt": "axe-core",
}


def _lock() -> dict:
    return json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))


def test_lock_pins_every_package_by_integrity_from_the_registry() -> None:
    package = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))
    assert package["private"] is True
    assert "scripts" not in package  # nothing runs (or downloads) at install time
    lock = _lock()
    assert lock["lockfileVersion"] == 3
    root = lock["packages"][""]
    assert root["dependencies"] == package["dependencies"]
    installed = {k: v for k, v in lock["packages"].items() if k}
    assert installed
    for name, entry in installed.items():
        assert entry.get("integrity", "").startswith("sha512-"), name
        # No git, file or tarball URL: `npm ci` takes everything from the registry
        # (the lock omits the registry's own addresses).
        resolved = entry.get("resolved")
        assert resolved is None or resolved.startswith("https://registry.npmjs.org/"), name
        assert "hasInstallScript" not in entry, name
    major = {
        k.removeprefix("node_modules/"): v["version"].split(".")[0] for k, v in installed.items()
    }
    assert major["maplibre-gl"] == "6"
    assert major["htmx.org"] == "2"
    assert major["axe-core"] == "4"


def test_vendored_files_match_the_manifest_and_the_lock() -> None:
    manifest_path = VENDOR / "manifest.json"
    if not manifest_path.is_file():
        pytest.skip(f"{VENDOR} vide : lancez scripts/install.sh (npm ci et tools/vendor.py).")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    entries = {entry["name"]: entry for entry in manifest["files"]}
    assert {name: e["package"] for name, e in entries.items()} == EXPECTED
    locked = {k.removeprefix("node_modules/"): v for k, v in _lock()["packages"].items() if k}
    for name, entry in entries.items():
        data = (VENDOR / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], name
        assert len(data) == entry["bytes"], name
        assert entry["version"] == locked[entry["package"]]["version"], name
        assert entry["license"] == locked[entry["package"]]["license"], name
    assert {p.name for p in VENDOR.iterdir() if not p.name.startswith(".")} == {
        *EXPECTED,
        "manifest.json",
    }


def test_own_scripts_name_no_other_host() -> None:
    """The map and table modules load nothing from another host."""
    for script in (STATIC / "js").glob("*.js"):
        code = "\n".join(
            line
            for line in script.read_text(encoding="utf-8").splitlines()
            if not line.lstrip().startswith("//")
        )
        assert not re.search(r"\bhttps?://", code), script.name
        imports = re.findall(r"""import\s[^;]*?from\s+["']([^"']+)["']""", code)
        assert all(target.startswith(("../", "./")) for target in imports)
