#!/usr/bin/env bash
# Instructions per 32-weight block of one row and one token, of one kernel table's row kernel
# (bench/README.md, ARM64 section): runs count_driver under qemu-user with insn_plugin.so,
# with 1 and 11 repetitions, and divides the difference by 10 x 16 rows x blocks x tokens.
#
#   RUN="qemu-aarch64" DRIVER=./count_driver bench/insn_count/count.sh dotprod q4_0 2560 1
#   RUN="qemu-x86_64 -cpu max" DRIVER=./count_driver bench/insn_count/count.sh avx2 q4_0 2560 1
#
# PLUGIN (default ./insn_plugin.so): built from insn_plugin.c with `gcc -O2 -shared -fPIC`.
set -euo pipefail
table="$1" type="$2" cols="$3" tokens="$4"
plugin="${PLUGIN:-./insn_plugin.so}"
count() { $RUN -plugin "$plugin" "$DRIVER" "$table" "$type" "$cols" "$tokens" "$1" 2>&1 >/dev/null | awk '/^insns/{print $2}'; }
a=$(count 1)
b=$(count 11)
awk -v a="$a" -v b="$b" -v c="$cols" -v t="$tokens" -v n="$table $type" \
  'BEGIN { printf "%s cols %d tokens %d: %.2f instructions per block-row-token\n", n, c, t, (b - a) / 10 / 16 / (c / 32) / t }'
