#!/usr/bin/env bash
# Run a node on the simulated single-node site (installs the Python environment on first use).
# Arguments go to `sitecontroller simulate`, e.g. --duration 60 or --site config/sim/other.json.
source "$(dirname "${BASH_SOURCE[0]}")/venv.sh"
ensure_venv
exec .venv/bin/sitecontroller simulate "$@"
