#!/usr/bin/env bash
# The honest test of the install path: a clean Debian 12 root (debootstrap --variant=minbase
# bookworm), a clean clone of this checkout's HEAD inside it, and the README's two commands
# run there in both orders. This machine always has something installed by hand; a fresh
# root has nothing but what scripts/setup.sh installs.
#
#   scripts/fresh-check.sh           full form: in one clean root,
#                                    clone B: scripts/test.sh (release stage), then demo.sh;
#                                    clone A: scripts/demo.sh, then scripts/test.sh (all).
#                                    Order B runs only the release stage: it is the only
#                                    stage whose tree (build/) demo.sh shares, so the order
#                                    matters there alone; order A runs every stage.
#   scripts/fresh-check.sh --quick   CI form: clean root, setup script, then CMake configure
#                                    of every configuration scripts/test.sh and demo.sh use
#                                    (CONFIGURE_ONLY=1), no compile.
#
# Needs root (debootstrap, chroot, bind mounts) and the Debian mirror. Prints each step's
# time and exits non-zero on any failure; the root is removed on exit, whatever happened.
# Environment: FRESH_MIRROR (default: this machine's first Debian URI), FRESH_TMP (where the
# root goes, default /var/tmp), and STAGES / FUZZ_SECONDS, passed on to scripts/test.sh.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mode=full
case "${1:-}" in
  --quick) mode=quick ;;
  "") ;;
  *) echo "usage: $0 [--quick]" >&2; exit 2 ;;
esac

if [ "$(id -u)" -ne 0 ]; then echo "fresh-check: needs root (debootstrap, chroot, mount)" >&2; exit 1; fi
command -v debootstrap >/dev/null || { echo "fresh-check: install the Debian package 'debootstrap' (scripts/setup.sh does)" >&2; exit 1; }
command -v git >/dev/null || { echo "fresh-check: install the Debian package 'git' (scripts/setup.sh does)" >&2; exit 1; }

if [ -n "$(git -C "$repo" status --porcelain --untracked-files=no)" ]; then
  echo "fresh-check: note: uncommitted changes are not part of the check (it clones HEAD)"
fi

mirror="${FRESH_MIRROR:-}"
if [ -z "$mirror" ]; then
  mirror=$(grep -rhoE '^(URIs:|deb) +https?://[^ ]+/debian/?' /etc/apt/sources.list /etc/apt/sources.list.d 2>/dev/null \
           | head -1 | awk '{print $2}') || true
  mirror="${mirror:-http://deb.debian.org/debian}"
fi

started=$SECONDS
step_started=0
step() { step_started=$SECONDS; echo; echo "=== fresh-check: $* ==="; }
step_done() { local t=$((SECONDS - step_started)); echo "=== fresh-check: $1 took $((t / 60)) min $((t % 60)) s ==="; }

root=$(mktemp -d "${FRESH_TMP:-/var/tmp}/ember-fresh.XXXXXX")
cleanup() {
  local rc=$?
  # Unmount everything below the root (deepest first) before removing it.
  if mountpoint -q "$root/proc" 2>/dev/null || grep -q " $root/" /proc/mounts; then
    grep " $root/" /proc/mounts | awk '{print $2}' | sort -r | while read -r m; do
      umount -l "$m" 2>/dev/null || true
    done
  fi
  rm -rf --one-file-system "$root"
  echo "fresh-check: root removed; total $(( (SECONDS - started) / 60 )) min $(( (SECONDS - started) % 60 )) s; exit $rc"
}
trap cleanup EXIT

step "debootstrap --variant=minbase bookworm ($mirror)"
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$root.debootstrap.log" 2>&1 || {
  tail -30 "$root.debootstrap.log"; rm -f "$root.debootstrap.log"; exit 1; }
rm -f "$root.debootstrap.log"
step_done debootstrap

# Same suites as a stock Debian 12 install (main, updates, security) from the same mirror host.
security="${mirror%/debian*}/debian-security"
cat >"$root/etc/apt/sources.list" <<EOF
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb $security bookworm-security main
EOF
# The network this machine sits on comes along, nothing of the project: name resolution,
# the local CA certificates (a TLS-inspecting egress proxy's CA, without which npm's
# registry fails with SELF_SIGNED_CERT_IN_CHAIN) and the proxy/CA environment variables.
# setup.sh's ca-certificates install folds the copied CAs into the root's bundle.
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
if compgen -G "/usr/local/share/ca-certificates/*" >/dev/null; then
  mkdir -p "$root/usr/local/share/ca-certificates"
  cp -r /usr/local/share/ca-certificates/. "$root/usr/local/share/ca-certificates/"
fi
net_env=()
for v in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY \
         SSL_CERT_FILE SSL_CERT_DIR NODE_EXTRA_CA_CERTS REQUESTS_CA_BUNDLE npm_config_cafile; do
  if [ -n "${!v:-}" ]; then net_env+=("$v=${!v}"); fi
done
for fs in proc sys dev; do
  mkdir -p "$root/$fs"
  mount --rbind "/$fs" "$root/$fs"
  mount --make-rslave "$root/$fs"
done

# Runs a command as root inside the clean root with a clean environment.
in_root() {
  chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    "${net_env[@]}" EMBER_IN_FRESH_ROOT=1 ${STAGES:+STAGES="$STAGES"} ${FUZZ_SECONDS:+FUZZ_SECONDS="$FUZZ_SECONDS"} \
    "$@"
}

clone() {
  mkdir -p "$root/src"
  git clone -q --no-hardlinks "$repo" "$root/src/$1"
  echo "fresh-check: cloned $(git -C "$root/src/$1" rev-parse --short HEAD) into /src/$1"
}

if [ "$mode" = quick ]; then
  clone ember
  step "setup.sh"
  in_root bash -c 'cd /src/ember && ./scripts/setup.sh'
  step_done setup
  step "configure every configuration (CONFIGURE_ONLY=1 scripts/test.sh; demo.sh uses the release tree)"
  in_root bash -c 'cd /src/ember && CONFIGURE_ONLY=1 STAGES="release asan tsan fuzz" ./scripts/test.sh'
  step_done configure
  echo "fresh-check: quick form passed"
  exit 0
fi

clone order-b
clone order-a
step "order B, command 1: scripts/test.sh (release stage)"
in_root env STAGES=release bash -c 'cd /src/order-b && ./scripts/test.sh'
step_done "order B test"
step "order B, command 2: scripts/demo.sh"
in_root bash -c 'cd /src/order-b && ./scripts/demo.sh'
step_done "order B demo"
step "order A, command 1: scripts/demo.sh"
in_root bash -c 'cd /src/order-a && ./scripts/demo.sh'
step_done "order A demo"
step "order A, command 2: scripts/test.sh"
in_root bash -c 'cd /src/order-a && ./scripts/test.sh'
step_done "order A test"
echo "fresh-check: full form passed (both orders)"
