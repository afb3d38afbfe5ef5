#!/usr/bin/env bash
# Raw server-sent-event framing of `ember serve`, seen through curl: headers, one
# "data: <json>" line per event, events separated by a blank line, the last one
# "data: [DONE]", chunked transfer. Run: EMBER_CLI=... EMBER_MODEL=... sse_curl_test.sh
set -euo pipefail
: "${EMBER_CLI:?}" "${EMBER_MODEL:?}"
work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill -TERM "$server_pid" 2>/dev/null || true; wait "$server_pid" || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$EMBER_CLI" serve -m "$EMBER_MODEL" --port 0 -t 1 2>"$work/log" &
server_pid=$!
for _ in $(seq 600); do
  grep -q "listening on" "$work/log" && break
  kill -0 "$server_pid" || fail "server exited: $(cat "$work/log")"
  sleep 0.1
done
port=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/log")
[ -n "$port" ] || fail "no port in: $(cat "$work/log")"

check_stream() {  # endpoint body
  curl -sS -N -D "$work/headers" -o "$work/body" -H "Content-Type: application/json" \
    "http://127.0.0.1:$port$1" -d "$2"
  tr -d '\r' < "$work/headers" > "$work/h"
  head -1 "$work/h" | grep -q "^HTTP/1.1 200" || fail "status: $(head -1 "$work/h")"
  grep -qi "^content-type: text/event-stream" "$work/h" || fail "content type: $(cat "$work/h")"
  grep -qi "^transfer-encoding: chunked" "$work/h" || fail "not chunked"
  grep -qi "^cache-control: no-cache" "$work/h" || fail "no cache-control"
  # Framing: lines alternate "data: ..." and "", the stream ends with "data: [DONE]\n\n".
  python3 - "$work/body" "$3" <<'PY' || fail "framing of $1"
import json, sys
raw = open(sys.argv[1], "rb").read().decode("utf-8")
assert raw.endswith("data: [DONE]\n\n"), repr(raw[-40:])
events = raw.split("\n\n")
assert events[-1] == "", repr(events[-1])
events = events[:-1]
for e in events:
    assert e.startswith("data: ") and "\n" not in e, repr(e)
assert events[-1] == "data: [DONE]"
chunks = [json.loads(e[len("data: "):]) for e in events[:-1]]
want_object = sys.argv[2]
ids = {c["id"] for c in chunks}
assert len(ids) == 1, ids
assert all(c["object"] == want_object for c in chunks)
with_choices = [c for c in chunks if c["choices"]]
finishes = [c["choices"][0]["finish_reason"] for c in with_choices]
assert finishes[-1] == "length" and all(f is None for f in finishes[:-1]), finishes
usage = [c for c in chunks if not c["choices"]]
assert len(usage) == 1 and usage[0] is chunks[-1], "one usage chunk, last"
assert usage[0]["usage"]["completion_tokens"] == 12, usage
PY
}

check_stream /v1/chat/completions \
  '{"messages":[{"role":"user","content":"Hello"}],"max_tokens":12,"temperature":0,"stream":true,"stream_options":{"include_usage":true}}' \
  chat.completion.chunk
check_stream /v1/completions \
  '{"prompt":"Once upon a time","max_tokens":12,"temperature":0,"stream":true,"stream_options":{"include_usage":true}}' \
  text_completion

# An error before the stream starts is a plain JSON error, not an event stream.
code=$(curl -sS -o "$work/err" -w '%{http_code}' -H "Content-Type: application/json" \
  "http://127.0.0.1:$port/v1/chat/completions" -d '{"messages":[],"stream":true}')
[ "$code" = 400 ] || fail "empty messages: HTTP $code"
python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))["error"]; assert e["param"]=="messages"' "$work/err" \
  || fail "error body: $(cat "$work/err")"

kill -TERM "$server_pid"
wait "$server_pid" || fail "server did not exit 0 on SIGTERM"
server_pid=""
echo "sse_curl_test: ok"
