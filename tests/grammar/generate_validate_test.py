#!/usr/bin/env python3
"""`ember generate --json-schema ... --output json` on every test model, at temperatures 0,
0.7 and 1.5 over a few seeds, validated with a real JSON Schema validator (Debian's
python3-jsonschema). The schema's language is bounded, so every run must end by grammar
completion or EOS; each output must parse and validate. Also checks the --output json
contract: exactly one JSON object on stdout with the four keys.

Usage: generate_validate_test.py EMBER_CLI MODELS_DIR SCHEMA"""
import json
import subprocess
import sys

import jsonschema

MODELS = ["stories260K.gguf", "tiny-llama2", "tiny-mistral", "tiny-phi2"]
TEMPERATURES = ["0", "0.7", "1.5"]
SEEDS = 2  # per non-zero temperature; greedy runs once


def main():
    cli, models_dir, schema_path = sys.argv[1:4]
    with open(schema_path, encoding="utf-8") as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    failures, runs = [], 0
    for model in MODELS:
        for temp in TEMPERATURES:
            for seed in range(1 if temp == "0" else SEEDS):
                cmd = [cli, "generate", "-m", f"{models_dir}/{model}", "-p", "The record:",
                       "--json-schema", schema_path, "-n", "400", "--temp", temp,
                       "--seed", str(seed), "--output", "json"]
                proc = subprocess.run(cmd, capture_output=True, check=False)
                runs += 1
                where = f"{model} temp {temp} seed {seed}"
                if proc.returncode != 0:
                    failures.append(f"{where}: exit {proc.returncode}: {proc.stderr.decode()}")
                    continue
                out = json.loads(proc.stdout.decode("utf-8"))  # exactly one object, nothing else
                if list(out) != ["text", "stop_reason", "prompt_tokens", "completion_tokens"]:
                    failures.append(f"{where}: keys {list(out)}")
                    continue
                if out["stop_reason"] not in ("grammar", "eos"):
                    failures.append(f"{where}: stop_reason {out['stop_reason']} for a bounded schema")
                    continue
                if out["prompt_tokens"] <= 0 or out["completion_tokens"] <= 0:
                    failures.append(f"{where}: token counts {out}")
                try:
                    instance = json.loads(out["text"])
                except ValueError as e:
                    failures.append(f"{where}: not JSON ({e}): {out['text']!r}")
                    continue
                errors = [e.message for e in validator.iter_errors(instance)]
                if errors:
                    failures.append(f"{where}: invalid {out['text']!r}: {errors}")
    for f in failures:
        print("FAIL", f)
    print(f"{runs - len(failures)}/{runs} outputs valid")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
