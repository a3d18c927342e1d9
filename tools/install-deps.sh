#!/usr/bin/env bash
# Installs every Debian package that building, testing and benchmarking Bricks needs.
# Idempotent and non-interactive; run as root (or with sudo available) on Debian 12.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libboost-dev libboost-filesystem-dev          # Boost.DLL (header-only) + Filesystem
  libtbb-dev                                    # oneTBB: engine and kernel threads
  libprotobuf-dev protobuf-compiler             # manifest schema (host only)
  libspdlog-dev libfmt-dev                      # logging (host only)
  libcli11-dev nlohmann-json3-dev               # CLI parsing, JSON reports
  libssl-dev                                    # SHA-256 plugin pins
  libgtest-dev libgmock-dev libbenchmark-dev    # tests and benchmarks
  libdnnl-dev                                   # oneDNN: bf16/AMX and f32 GEMM
  liburing-dev                                  # io_uring: the disk tier's transfers
  libglpk-dev                                   # GLPK: the GPU-mix ILP of `bricks plan`
  clang libc++-dev libc++abi-dev                # ABI test: a brick built with clang + libc++
  libclang-rt-dev                               # libFuzzer and clang's sanitizers (tools/fuzz.sh)
  nodejs                                        # the serve test's client: the openai npm package
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# npm comes with some builds of nodejs; Debian's own nodejs needs the npm package.
command -v npm >/dev/null 2>&1 || missing+=(npm)

sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
else
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The official openai client that the serve end-to-end test drives, at the version the
# lock file pins (tests/serve/node).
node_dir="$(cd "$(dirname "$0")/.." && pwd)/tests/serve/node"
if [ ! -f "$node_dir/node_modules/openai/package.json" ]; then
  echo "install-deps: installing the openai npm package for the serve tests"
  (cd "$node_dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
echo "install-deps: done"
