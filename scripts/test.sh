#!/usr/bin/env bash
# The test command: installs what is missing (Debian 12, as root), builds, runs every test,
# then runs each fuzz target briefly.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
bash scripts/build.sh
(cd build && ctest --output-on-failure -j"$(nproc)")
# Every fuzz target for a short while from its seeds (tests/fuzz; longer runs: RELIABILITY.md).
bash scripts/fuzz.sh 15
