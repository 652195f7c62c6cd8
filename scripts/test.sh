#!/usr/bin/env bash
# The test command: installs what is missing (Debian 12, as root), builds, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
bash scripts/build.sh
cd build
ctest --output-on-failure -j"$(nproc)"
