#!/usr/bin/env bash
# server/deploy/ember-serve@.service is a valid unit (systemd-analyze verify, on an instance,
# with ExecStart pointing at the built `ember`) and stays hardened (offline exposure score at
# most 2.0 of 10). Needs systemd-analyze (Debian's `systemd`); without it exits 77 (skipped).
# Run: EMBER_CLI=... systemd_unit_test.sh
set -euo pipefail
: "${EMBER_CLI:?}"
if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "SKIPPED: systemd unit test: no systemd-analyze (Debian's systemd package)"
  exit 77
fi
unit="$(cd "$(dirname "${BASH_SOURCE[0]}")/../deploy" && pwd)/ember-serve@.service"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
grep -q '^ExecStart=/usr/local/bin/ember serve ' "$unit" || { echo "FAIL: ExecStart is not /usr/local/bin/ember serve" >&2; exit 1; }
sed "s|^ExecStart=/usr/local/bin/ember |ExecStart=$EMBER_CLI |" "$unit" > "$work/ember-serve@.service"
# verify prints problems and exits non-zero on errors; warnings count as failures here too.
out=$(systemd-analyze verify "$work/ember-serve@8081.service" 2>&1) || { echo "FAIL: $out" >&2; exit 1; }
[ -z "$out" ] || { echo "FAIL: systemd-analyze verify: $out" >&2; exit 1; }
systemd-analyze security --offline=true --threshold=20 "$work/ember-serve@8081.service" > "$work/security" 2>&1 \
  || { tail -3 "$work/security" >&2; echo "FAIL: exposure above 2.0" >&2; exit 1; }
tail -1 "$work/security"
echo "systemd_unit_test: ok"
