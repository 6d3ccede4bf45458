#!/usr/bin/env bash
# Seed 002's real client.py against chatserver's JSON port (issue 21), unmodified: its
# repository has no license, so it is not vendored here; this fetches it at a pinned commit
# (checking its SHA-256) into target/seed002/, then tests/seed002/harness.py drives it.
#
#   tests/seed002/run.sh          (SEED002_CLIENT=/path/to/client.py to use a local copy)
#
# The harness maps the client's hard-coded localhost:33000 to the server's port 0 listener by
# wrapping socket.connect in the Python process that runs client.py (the file is run as is).
# Exit status non-zero if a scenario fails. CI runs it after `cargo test`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
commit=bcf425772ac25e8f4c4a7f375f646d271150e90f
sha256=82a11986e5f887d3e338c0863522a9c4ab55551e28a2761b37af29ee2a4b67b0
client="${SEED002_CLIENT:-$repo/target/seed002/client.py}"
if [ ! -f "$client" ]; then
    mkdir -p "$(dirname "$client")"
    # A machine that reaches only package registries cannot fetch it: say so loudly and stop
    # without failing (tests/json.rs checks the same <quit> pacing and name variants byte for
    # byte); anywhere with the file (SEED002_CLIENT) or the network, the real client runs.
    if ! python3 - "$client" "$commit" <<'PY'
import sys, urllib.request
path, commit = sys.argv[1], sys.argv[2]
url = f"https://raw.githubusercontent.com/mylee1995/pythonChatRoom/{commit}/client.py"
try:
    with urllib.request.urlopen(url, timeout=20) as r, open(path + ".part", "wb") as f:
        f.write(r.read())
except OSError as e:
    print(f"seed002: cannot fetch client.py ({e})", file=sys.stderr)
    sys.exit(1)
import os; os.replace(path + ".part", path)
PY
    then
        echo "seed002: SKIPPED: client.py is not here and cannot be fetched (set SEED002_CLIENT=/path/to/client.py)"
        exit 0
    fi
fi
echo "$sha256  $client" | sha256sum -c --quiet - || { echo "seed002: $client is not the pinned client.py" >&2; exit 2; }
(cd "$repo" && cargo build --bin chatserver)
exec python3 -B "$here/harness.py" --server "$repo/target/debug/chatserver" --client "$client"
