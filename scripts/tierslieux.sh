#!/usr/bin/env bash
# Run the tierslieux command from a fresh checkout: installs on first use.
# Example (main job, offline demo): scripts/tierslieux.sh diagnose --demo --out sortie-demo
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bash "$here/scripts/install.sh" >&2
exec "$here/.venv/bin/tierslieux" "$@"
