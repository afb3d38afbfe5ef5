#!/usr/bin/env bash
# The source-level half of the ABI check. abidiff (abi_check.sh) compares the binary
# interface; some changes leave that intact but still break hosts' source code or meaning:
# a dropped `const` on a pointer parameter, a status or flag value that changes, a callback
# typedef that changes. This script reduces include/ember/ember.h to its API surface, one
# line per item:
#   - every EMBER_API declaration, whitespace normalized, parameter names removed;
#   - every typedef (handles and callback signatures);
#   - every #define EMBER_<NAME> <number> (status codes, flags, enum-like values), except
#     the EMBER_VERSION_* macros, which change with each release.
# usage: api_surface.sh HEADER                  prints the surface (sorted)
#        api_surface.sh HEADER BASELINE_TXT     fails if a baseline line is no longer there
#                                               (new lines, i.e. appended API, are fine)
set -euo pipefail
surface() {
  awk '
    # drops parameter names: the identifier before each , or ) that follows a space or *
    function unnamed(p) {
      while (match(p, /[ *][a-z_][a-z0-9_]*[,)]/)) p = substr(p, 1, RSTART) substr(p, RSTART + RLENGTH - 1)
      gsub(/ ,/, ",", p); gsub(/ \)/, ")", p); gsub(/\( /, "(", p)
      return p
    }
    function flush(d,   i) {
      gsub(/[ \t]+/, " ", d)
      if (d ~ /^EMBER_API/) { i = index(d, "("); d = substr(d, 1, i - 1) unnamed(substr(d, i)) }
      else if (d ~ /^typedef .*\(\*/) { i = index(d, ")("); d = substr(d, 1, i) unnamed(substr(d, i + 1)) }
      print d
    }
    /^EMBER_API|^typedef/ { d = $0; while (d !~ /;/ && (getline line) > 0) d = d " " line; flush(d); next }
    /^#define EMBER_[A-Z0-9_]+ -?[0-9]+/ && !/^#define EMBER_VERSION_/ { print $1 " " $2 " " $3 }
  ' "$1" | LC_ALL=C sort
}
if [ $# -eq 1 ]; then surface "$1"; exit 0; fi
if [ $# -ne 2 ]; then echo "usage: $0 HEADER [BASELINE_TXT]" >&2; exit 2; fi
missing="$(LC_ALL=C comm -23 <(LC_ALL=C sort "$2") <(surface "$1"))"
if [ -z "$missing" ]; then
  echo "API surface: every item of $(basename "$2") is unchanged in $(basename "$1") ($(wc -l <"$2") items; additions allowed)"
  exit 0
fi
echo "API surface check FAILED: these items of the baseline changed or disappeared from $1:"
echo "$missing" | sed 's/^/  /'
echo "Existing declarations, typedefs and values never change (docs/ABI.md): add a new name."
exit 1
