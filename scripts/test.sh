#!/usr/bin/env bash
# The project's test command (README): install if needed, then lint, type-check, test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
.venv/bin/ruff check src tests bench tools
.venv/bin/mypy
.venv/bin/lint-imports
.venv/bin/pytest "$@"
