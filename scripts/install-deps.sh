#!/usr/bin/env bash
# Installs the Debian 12 packages weir needs to build, test and benchmark, skipping those
# already present. Safe to run repeatedly. Run as root (or with sudo available).
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git
  # libraries (Debian 12 versions are the supported ones; Boost must be 1.81, not the default 1.74)
  libboost1.81-dev libnghttp2-dev libssl-dev
  libprotobuf-dev protobuf-compiler libgrpc++-dev protobuf-compiler-grpc
  libabsl-dev libre2-dev libyaml-cpp-dev libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # tcmalloc, the allocator Envoy uses (the weir binary links libtcmalloc_minimal)
  libgoogle-perftools-dev
  # real clients used by the integration tests and the load benchmarks
  curl wrk nghttp2-client nghttp2-server python3
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
