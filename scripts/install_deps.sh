#!/usr/bin/env bash
# Installs the Debian 12 packages agentd builds and runs with. Idempotent: when every package is
# already present it prints nothing and touches nothing (no apt-get update either).
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config ccache git curl
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libssl-dev librocksdb-dev libfaiss-dev libopenblas0-pthread libopenblas-dev
  liblua5.4-dev libcurl4-openssl-dev libcpp-httplib-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev
  nlohmann-json3-dev libonig-dev libutf8proc-dev libcli11-dev libstemmer-dev libpoppler-cpp-dev libseccomp-dev
  python3-grpcio python3-protobuf python3-prometheus-client
  python3-torch python3-numpy python3-regex debian-reference-en debian-reference-zh-cn manpages-zh man-db
  # The run viewer's browser test (tests/integration/run_viewer): chromium, driven by
  # puppeteer-core from npm, with CJK fonts for its screenshots.
  chromium fonts-noto-cjk
)

# Node runs the official OpenAI client against the HTTP side (tests/integration/openai_client):
# Debian's nodejs and npm, unless a node is installed already (another node's own npm would
# conflict with Debian's).
if ! command -v node >/dev/null 2>&1; then
  PACKAGES+=(nodejs npm)
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "install_deps: missing packages (${missing[*]}); run as root to install them" >&2
  exit 1
fi
echo "install_deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
