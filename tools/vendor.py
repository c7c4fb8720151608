"""Copy the web application's front-end libraries from node_modules into the package.

The libraries come from the npm registry, pinned by ``package-lock.json`` and installed
by ``npm ci`` (``scripts/install.sh`` runs both steps).  This script copies exactly the
files the pages need, and the licence of each library, into
``src/tierslieux/web/static/vendor/`` (ignored by git), so that the application serves
them itself and no page loads anything from another host.  ``manifest.json`` beside
them records each file's package, version, licence and SHA-256.

Usage::

    python tools/vendor.py          # copy (only what changed) and write the manifest
    python tools/vendor.py --check  # exit 1 unless the vendored files match the manifest
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
LOCK = ROOT / "package-lock.json"
VENDOR = ROOT / "src" / "tierslieux" / "web" / "static" / "vendor"
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Asset:
    """One file copied from a package: its path in the package and its vendored name."""

    package: str
    source: str
    name: str


#: Exactly what the pages load (MapLibre GL 6 ships ES modules only: the main module
#: starts its worker from ``maplibre-gl-worker.mjs`` beside it), plus each licence.
ASSETS: tuple[Asset, ...] = (
    Asset("maplibre-gl", "dist/maplibre-gl.mjs", "maplibre-gl.mjs"),
    Asset("maplibre-gl", "dist/maplibre-gl-worker.mjs", "maplibre-gl-worker.mjs"),
    Asset("maplibre-gl", "dist/maplibre-gl.css", "maplibre-gl.css"),
    Asset("maplibre-gl", "LICENSE.txt", "maplibre-gl.LICENSE.txt"),
    Asset("htmx.org", "dist/htmx.min.js", "htmx.min.js"),
    Asset("htmx.org", "LICENSE", "htmx.LICENSE.txt"),
    Asset("axe-core", "axe.min.js", "axe.min.js"),
    Asset("axe-core", "LICENSE", "axe-core.LICENSE.txt"),
)


class VendorError(Exception):
    """A library is missing or not at the version of the lock file."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _locked_versions(lock: Path) -> dict[str, str]:
    """Version of each top-level package in ``package-lock.json``."""
    try:
        data = json.loads(lock.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise VendorError(f"{lock}: unreadable lock file ({error}).") from error
    packages = data.get("packages", {})
    return {
        key.removeprefix("node_modules/"): str(value.get("version"))
        for key, value in packages.items()
        if key.startswith("node_modules/") and key.count("node_modules/") == 1
    }


def _package_info(node_modules: Path, package: str, locked: str | None) -> tuple[str, str]:
    """Installed version and licence of ``package``, checked against the lock file."""
    meta = node_modules / package / "package.json"
    try:
        data = json.loads(meta.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise VendorError(f"{meta}: missing or unreadable; run `npm ci` first.") from error
    version = str(data.get("version"))
    if locked is not None and version != locked:
        raise VendorError(
            f"{package} {version} is installed but package-lock.json says {locked}; "
            "run `npm ci` first."
        )
    return version, str(data.get("license", "?"))


def build_manifest(node_modules: Path = NODE_MODULES, lock: Path = LOCK) -> dict[str, object]:
    """The manifest of the files to vendor, computed from ``node_modules``."""
    locked = _locked_versions(lock)
    files = []
    for asset in ASSETS:
        version, licence = _package_info(node_modules, asset.package, locked.get(asset.package))
        source = node_modules / asset.package / asset.source
        if not source.is_file():
            raise VendorError(f"{source}: missing from the installed package.")
        files.append(
            {
                "name": asset.name,
                "package": asset.package,
                "version": version,
                "license": licence,
                "source": f"{asset.package}/{asset.source}",
                "bytes": source.stat().st_size,
                "sha256": _sha256(source),
            }
        )
    return {"generated_by": "tools/vendor.py", "files": files}


def _write_atomic(target: Path, data: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        Path(temporary).chmod(0o644)
        Path(temporary).replace(target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def vendor(
    node_modules: Path = NODE_MODULES, lock: Path = LOCK, target: Path = VENDOR
) -> list[str]:
    """Copy the assets into ``target`` and write the manifest; return the names copied."""
    manifest = build_manifest(node_modules, lock)
    target.mkdir(parents=True, exist_ok=True)
    copied = []
    for entry, asset in zip(manifest["files"], ASSETS, strict=True):  # type: ignore[call-overload]
        destination = target / asset.name
        if destination.is_file() and _sha256(destination) == entry["sha256"]:
            continue
        _write_atomic(destination, (node_modules / asset.package / asset.source).read_bytes())
        copied.append(asset.name)
    known = {asset.name for asset in ASSETS} | {MANIFEST}
    for stale in target.iterdir():
        if stale.is_file() and stale.name not in known and not stale.name.startswith("."):
            stale.unlink()
    text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    manifest_path = target / MANIFEST
    if not manifest_path.is_file() or manifest_path.read_text(encoding="utf-8") != text:
        _write_atomic(manifest_path, text.encode("utf-8"))
    return copied


def check(target: Path = VENDOR) -> list[str]:
    """Problems with the vendored files: missing, or not matching the manifest's hash."""
    manifest_path = target / MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        return [f"{manifest_path}: missing or unreadable ({error}); run tools/vendor.py."]
    problems = []
    names = {entry["name"] for entry in manifest["files"]}
    problems.extend(
        f"{asset.name}: not in the manifest" for asset in ASSETS if asset.name not in names
    )
    for entry in manifest["files"]:
        path = target / entry["name"]
        if not path.is_file():
            problems.append(f"{path}: missing")
        elif _sha256(path) != entry["sha256"]:
            problems.append(f"{path}: SHA-256 differs from the manifest")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="verify the vendored files, copy nothing"
    )
    args = parser.parse_args(argv)
    if args.check:
        problems = check()
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0
    try:
        copied = vendor()
    except VendorError as error:
        print(f"tools/vendor.py: {error}", file=sys.stderr)
        return 1
    shown = ", ".join(copied) if copied else "nothing (already up to date)"
    print(f"Vendored into {VENDOR.relative_to(ROOT)}: {shown}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
