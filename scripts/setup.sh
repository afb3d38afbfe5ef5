#!/usr/bin/env bash
# Installs every Debian 12 package that any of ember's configurations needs: the release
# build, the sanitizer and fuzz builds, the benches, the bindings' tests and
# scripts/fresh-check.sh. Idempotent; run as root (or with sudo). Skips apt entirely when
# everything is already installed.
#
# Why each non-obvious package is here:
#   ocl-icd-opencl-dev  Debian's dnnl-config.cmake requires OpenCL; it is only a Recommends
#                       of libdnnl-dev, which --no-install-recommends leaves out.
#   git                 tests and fresh-check.sh clone the checkout.
#   debootstrap         scripts/fresh-check.sh builds a clean Debian 12 root with it.
#   abigail-tools       abidw/abidiff: the ABI check against the committed baseline.
#   libcpp-httplib-dev  HTTP for `ember serve`.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  libabsl-dev nlohmann-json3-dev libutf8proc-dev libeigen3-dev
  libdnnl-dev ocl-icd-opencl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang-14 libclang-rt-14-dev   # libFuzzer and sanitizer runtimes
  python3
  debootstrap
  abigail-tools
  libcpp-httplib-dev
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages already installed"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "setup: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
