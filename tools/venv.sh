# Sourced by tools/simulate.sh and tools/test.sh: make .venv with the pinned dependencies, once.
# A stamp keyed on the requirement files re-installs only when they change.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_install() {
    # Installs the named Debian packages that are missing; apt-get update once per run.
    local missing=()
    for pkg in "$@"; do dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg"); done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "installing Debian packages: ${missing[*]}"
        as_root apt-get update -qq
        DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

ensure_venv() {
    python3 -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed"'
    python3 -m venv --help >/dev/null 2>&1 && python3 -c 'import ensurepip' 2>/dev/null || apt_install python3-venv
    [ -x .venv/bin/python ] || python3 -m venv .venv
    local stamp=.venv/.requirements-stamp want
    want=$(cat requirements.txt requirements-dev.txt pyproject.toml | sha256sum | cut -d' ' -f1)
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        .venv/bin/pip install -q --upgrade pip
        .venv/bin/pip install -q -r requirements.txt -r requirements-dev.txt
        .venv/bin/pip install -q --no-deps -e .
        echo "$want" > "$stamp"
    fi
}
