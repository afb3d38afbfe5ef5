#!/usr/bin/env bash
# Side by side: `ember bench`, llama.cpp's llama-bench and ik_llama.cpp's llama-bench on the
# same files and thread counts, in one run, engines alternating, and the ratio table.
#
#   bench/compare.sh [-p 512] [-n 64] [-t 1,2] [-r 3] [--rounds R] MODEL.gguf [MODEL.gguf ...]
#
# Each round runs the three engines on one model back to back; odd rounds go ember, llama.cpp,
# ik_llama.cpp, even rounds the reverse, so a slow drift of the machine (thermal, a neighbour)
# does not always favour the same engine. With several rounds a figure is the mean of the
# rounds' means. The table's header carries what the ratios must be read against: the CPU
# (lscpu), and ember's in-process read bandwidth and int8 peak per thread count, measured in
# this same run (never a figure from another run or machine).
#
# Environment: EMBER (default build/cli/ember), LLAMA_BENCH and IK_BENCH (default
# ../shared/perf/bin/llama-bench and ik-llama-bench; an engine whose binary is missing is
# left out), IK_FLAGS (default "-rtr 1 -fa 0": run-time repacking on, flash attention off,
# its fastest settings on these machines), OUT (folder for raw JSON and logs; default a
# temporary folder, printed).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
prompt=512 gen=64 threads=1,2 reps=3 rounds=1
models=()
while [ $# -gt 0 ]; do
  case "$1" in
    -p) prompt="$2"; shift 2 ;;
    -n) gen="$2"; shift 2 ;;
    -t) threads="$2"; shift 2 ;;
    -r) reps="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    -*) echo "compare.sh: unknown option $1" >&2; exit 2 ;;
    *) models+=("$1"); shift ;;
  esac
done
[ ${#models[@]} -gt 0 ] || { echo "usage: $0 [-p P] [-n N] [-t T,..] [-r R] [--rounds K] MODEL.gguf..." >&2; exit 2; }

ember="${EMBER:-$root/build/cli/ember}"
llama="${LLAMA_BENCH:-$root/../shared/perf/bin/llama-bench}"
ik="${IK_BENCH:-$root/../shared/perf/bin/ik-llama-bench}"
read -r -a ik_flags <<<"${IK_FLAGS:--rtr 1 -fa 0}"
out="${OUT:-$(mktemp -d /tmp/ember-compare.XXXXXX)}"
mkdir -p "$out"
[ -x "$ember" ] || { echo "compare.sh: no ember binary at $ember (build ember_cli, or set EMBER)" >&2; exit 1; }
engines=(ember)
[ -x "$llama" ] && engines+=(llama) || echo "compare.sh: no llama-bench at $llama; left out" >&2
[ -x "$ik" ] && engines+=(ik) || echo "compare.sh: no ik-llama-bench at $ik; left out" >&2

run_engine() {  # engine model round
  local e="$1" m="$2" r="$3" tag
  tag="$(basename "$m" .gguf).$e.$r"
  echo "compare.sh: round $r, $e, $(basename "$m")" >&2
  case "$e" in
    ember) "$ember" bench -m "$m" -p "$prompt" -n "$gen" -t "$threads" -r "$reps" --json \
             >"$out/$tag.json" 2>"$out/$tag.log" ;;
    llama) "$llama" -m "$m" -p "$prompt" -n "$gen" -t "$threads" -r "$reps" -o json \
             >"$out/$tag.json" 2>"$out/$tag.log" ;;
    ik)    "$ik" -m "$m" -p "$prompt" -n "$gen" -t "$threads" -r "$reps" "${ik_flags[@]}" -o json \
             >"$out/$tag.json" 2>"$out/$tag.log" ;;
  esac || { echo "compare.sh: $e failed on $m (log: $out/$tag.log)" >&2; tail -5 "$out/$tag.log" >&2; return 1; }
}

for m in "${models[@]}"; do
  for ((r = 1; r <= rounds; r++)); do
    order=("${engines[@]}")
    if ((r % 2 == 0)); then order=($(printf '%s\n' "${engines[@]}" | tac)); fi
    for e in "${order[@]}"; do run_engine "$e" "$m" "$r"; done
  done
done

cpu="$(lscpu | sed -n 's/^Model name: *//p' | head -1)"
commit="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
python3 - "$out" "$cpu" "$commit" "$rounds" "${models[@]}" <<'PY'
import json, os, re, statistics, sys
out, cpu, commit, rounds, models = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5:]

def load(engine, model, r):
    path = os.path.join(out, f"{os.path.basename(model)[:-5] if model.endswith('.gguf') else os.path.basename(model)}.{engine}.{r}.json")
    if not os.path.exists(path):
        return {}
    rows = json.load(open(path))
    res = {}
    for o in rows:
        if engine == "ember":
            res[(o["test"], o["threads"])] = o["tokens_per_second"]
        else:
            test = f"pp{o['n_prompt']}" if o.get("n_gen", 0) == 0 else f"tg{o['n_gen']}"
            res[(test, o["n_threads"])] = o["avg_ts"]
    return res

def report(model, r):
    path = os.path.join(out, f"{os.path.basename(model)[:-5]}.ember.{r}.log")
    return open(path).read() if os.path.exists(path) else ""

print(f"CPU: {cpu}; ember at {commit}; {rounds} round(s), engines alternating; tok/s (mean of rounds)")
limits = {}
for model in models:
    rep = report(model, 1)
    for m in re.finditer(r"^\| (\S+) \| (\d+) \| .*? \| ([\d.]+)% \| (read ([\d.]+) GB/s measured|int8 (.+?) ([\d.]+) GOP/s measured)", rep, re.M):
        t = int(m.group(2))
        if m.group(5): limits.setdefault(("read GB/s", t), m.group(5))
        if m.group(7): limits.setdefault((f"int8 {m.group(6)} GOP/s", t), m.group(7))
if limits:
    print("measured in-process by ember bench in this run: " +
          "; ".join(f"{k} t={t}: {v}" for (k, t), v in sorted(limits.items())))
print()
print("| model | test | t | ember | llama.cpp | ik_llama.cpp | ember / llama.cpp | ember / ik | ember % of roofline |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for model in models:
    name = os.path.basename(model)
    per = {e: [load(e, model, r) for r in range(1, rounds + 1)] for e in ("ember", "llama", "ik")}
    roof = {}
    for m in re.finditer(r"^\| (\S+) \| (\d+) \| [^|]+ \| [^|]+ \| ([\d.]+)% \|", report(model, 1), re.M):
        roof[(m.group(1), int(m.group(2)))] = m.group(3)
    keys = [k for k in per["ember"][0]] if per["ember"] and per["ember"][0] else []
    for key in keys:
        def mean(e):
            vals = [d[key] for d in per[e] if key in d]
            return statistics.mean(vals) if vals else None
        em, ll, ik = mean("ember"), mean("llama"), mean("ik")
        f = lambda v: f"{v:.2f}" if v is not None else "-"
        ratio = lambda a, b: f"**{a / b:.2f}x**" if a and b else "-"
        print(f"| {name} | {key[0]} | {key[1]} | {f(em)} | {f(ll)} | {f(ik)} | {ratio(em, ll)} | {ratio(em, ik)} | {roof.get(key, '-')}% |")
print(f"\nraw JSON and logs: {out}")
PY
