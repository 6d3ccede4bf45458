#!/usr/bin/env bash
# The Autobahn WebSocket test cases (issue 19) against the project's own WebSocket transport:
# examples/ws_echo.rs under an echo protocol, driven by PyPI's `kosoku` (a native runner of the
# Autobahn TestSuite case files), sections 1-7, 9 and 10 (12 and 13 are permessage-deflate,
# which the server does not offer). Fails if any case is FAILED (OK, NON-STRICT and
# INFORMATIONAL pass, as in Autobahn's own reports). Needs python3 with venv; installs kosoku
# into target/web-venv. Usage: tests/autobahn/run.sh [kosoku options, e.g. -i '5.*']
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=target/web-venv
if [ ! -x "$venv/bin/kosoku" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q kosoku selenium
fi
cargo build --release --example ws_echo
out=$(mktemp -d)
target/release/examples/ws_echo 0 > "$out/echo.txt" &
echo_pid=$!
trap 'kill $echo_pid 2>/dev/null || true; rm -rf "$out"' EXIT
for _ in $(seq 50); do grep -q listening "$out/echo.txt" && break; sleep 0.1; done
addr=$(sed -n 's/^ws_echo listening on //p' "$out/echo.txt")
cases=(-i '1.*' -i '2.*' -i '3.*' -i '4.*' -i '5.*' -i '6.*' -i '7.*' -i '9.*' -i '10.*')
[ $# -gt 0 ] && cases=("$@")
"$venv/bin/kosoku" -p 2 -o "$out/reports" "${cases[@]}" "$addr" | tail -n 20
python3 - "$out/reports/index.json" <<'PY'
import collections, json, sys
counts = collections.Counter()
failed = []
for cases in json.load(open(sys.argv[1])).values():
    for case, result in cases.items():
        counts[result["behavior"]] += 1
        if result["behavior"] not in ("OK", "NON-STRICT", "INFORMATIONAL") or result.get("behaviorClose") not in ("OK", "INFORMATIONAL"):
            failed.append(case)
print("autobahn:", ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))
print(f"{sum(counts.values()) - len(failed)} passed, {len(failed)} failed")
sys.exit(1 if failed else 0)
PY
