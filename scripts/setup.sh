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
#   curl                the `ember serve` tests check raw server-sent-event framing with it.
#   nodejs, npm         only when `node`/`npm` are missing (a machine may have its own
#                       Node.js): the `ember serve` tests drive the server with the official
#                       OpenAI Node.js client, which npm installs (pinned by
#                       server/tests/node/package-lock.json) into server/tests/node.
#                       bindings/node's tests also need them (koffi, pinned by
#                       bindings/node/package-lock.json, installed into bindings/node).
#   chromium            the `ember serve` chat page test runs the page at `/` in headless
#                       Chromium, driven over the DevTools protocol by playwright-core (npm,
#                       locked in server/tests/node; it downloads no browser of its own).
#   nginx               the two-replica test puts `ember serve` processes behind nginx with
#                       server/deploy/nginx-ember.conf (docs/deploy.md). Debian's `nginx` is
#                       the smallest flavour: upstream and proxy are built in (nginx-light only
#                       adds a module). The test runs its own nginx on a free loopback port;
#                       setup keeps the package from starting the system one (policy-rc.d).
#   golang-go           cgo: builds and tests the Go binding (bindings/go) offline.
#   cargo               with rustc: builds and tests the Rust binding (bindings/rust) offline.
#   g++-mingw-w64-x86-64-posix, wine, wine64
#                       the Windows x64 build (cmake/toolchains/mingw-w64.cmake): MinGW-w64's
#                       posix-threads flavour (its win32 flavour has no std::thread in GCC 12),
#                       and Wine to run the DLL's test suites and examples.
#   dpkg-dev            `apt-get source` (dpkg-source): the Windows build compiles Abseil and
#                       utf8proc from Debian's own source packages, which Debian ships only
#                       for Linux; deb-src lines for bookworm are added below.
#   g++-aarch64-linux-gnu, qemu-user, and the :arm64 -dev packages
#                       the ARM64 build (cmake/toolchains/aarch64-linux-gnu.cmake), linked
#                       against Debian's arm64 builds of the same libraries (multiarch:
#                       dpkg --add-architecture arm64) and run under qemu-aarch64.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  ccache   # scripts/build.sh compiles through it: repeated runs rebuild only what changed
  libabsl-dev nlohmann-json3-dev libutf8proc-dev libeigen3-dev
  libdnnl-dev ocl-icd-opencl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang-14 libclang-rt-14-dev   # libFuzzer and sanitizer runtimes
  python3
  python3-jsonschema   # a real JSON Schema validator for grammar-constrained outputs (tests/grammar)
  debootstrap
  abigail-tools
  libcpp-httplib-dev
  curl
  chromium
  nginx
  golang-go   # bindings/go
  cargo       # bindings/rust (pulls in rustc)
  g++-mingw-w64-x86-64-posix wine wine64 dpkg-dev   # Windows x64 (issue 15)
  g++-aarch64-linux-gnu qemu-user                    # ARM64 (issue 15)
  libabsl-dev:arm64 libutf8proc-dev:arm64 libgtest-dev:arm64 libgmock-dev:arm64
)
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages already installed"
else
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "setup: installing ${missing[*]}"
  # No package this installs may start a daemon: Debian's nginx would start the system
  # nginx on port 80 (and its configure step fails where that port is taken), and in
  # scripts/fresh-check.sh's throwaway root it would run on in the host's network after the
  # root is gone. The tests run their own instances. Maintainer scripts ask
  # /usr/sbin/policy-rc.d; 101 means "do not start". It is only in place during this install.
  policy_rc=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    policy_rc=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy_rc" >/dev/null
    $SUDO chmod 755 "$policy_rc"
    trap '$SUDO rm -f "$policy_rc"' EXIT
  fi
  # arm64 multiarch for the ARM64 build's libraries, and deb-src for the Windows build's
  # sources (only for bookworm's main archive, like the deb lines).
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    $SUDO dpkg --add-architecture arm64
  fi
  deb_src=/etc/apt/sources.list.d/ember-deb-src.sources
  if [ ! -e "$deb_src" ]; then
    printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      | $SUDO tee "$deb_src" >/dev/null
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm packages, exactly as locked: the OpenAI Node.js client for the `ember serve` tests
# and koffi for the Node.js binding. Each is skipped when its installed tree already
# matches its lock file.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
for node_dir in "$root/server/tests/node" "$root/bindings/node"; do
  if ! cmp -s "$node_dir/package-lock.json" "$node_dir/node_modules/.ember-installed-lock" 2>/dev/null; then
    echo "setup: npm ci in ${node_dir#"$root"/}"
    (cd "$node_dir" && npm ci --no-audit --no-fund --loglevel=error)
    cp "$node_dir/package-lock.json" "$node_dir/node_modules/.ember-installed-lock"
  fi
done
