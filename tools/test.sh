#!/usr/bin/env bash
# The whole check, as CI runs it: system packages the tests need, the venv, lint, import
# contract, then the test suite. Arguments go to pytest (e.g. tests/state -x).
source "$(dirname "${BASH_SOURCE[0]}")/venv.sh"
# mosquitto + openssl: the IoT Hub emulator; socat: Modbus RTU over a pty pair; iproute2: network
# namespaces for multicast tests; nodejs/npm: Azurite (Blob storage emulator).
apt_install mosquitto openssl socat iproute2
command -v npm >/dev/null 2>&1 || apt_install nodejs npm
ensure_venv
if [ -f tools/azurite/package.json ] && [ ! -x tools/azurite/node_modules/.bin/azurite-blob ]; then
    (cd tools/azurite && npm ci --no-audit --no-fund --silent)
fi
# As root, the CAN udp_multicast test runs between two network namespaces it creates and removes.
[ "$(id -u)" = 0 ] && export SITECONTROLLER_NETNS_TESTS="${SITECONTROLLER_NETNS_TESTS:-1}"
.venv/bin/ruff check .
.venv/bin/lint-imports >/dev/null
exec .venv/bin/pytest "$@"
