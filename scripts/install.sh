#!/usr/bin/env bash
# Create .venv (once) and install tierslieux with its development tools, then the web
# application's front-end libraries (npm registry, pinned by package-lock.json), copied
# into the package by tools/vendor.py so that no page loads anything from another host.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [[ ! -x .venv/bin/python ]]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.tierslieux-installed
if [[ ! -f $stamp || pyproject.toml -nt $stamp ]]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e '.[dev]'
  touch "$stamp"
fi
# npm ci writes node_modules/.package-lock.json: older than the lock means reinstall.
# --ignore-scripts: no package runs anything at install time (none needs to).
if command -v npm >/dev/null 2>&1; then
  if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
    npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
  fi
  .venv/bin/python tools/vendor.py
else
  echo "npm absent : bibliothèques de l'application web non installées (apt-get install npm)." >&2
fi
