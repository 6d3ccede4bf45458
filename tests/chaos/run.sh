#!/usr/bin/env bash
# Chaos across front-ends against the release build (tests/chaos/chaos.py: random and hostile
# commands from line, IRC, JSON and WebSocket users, then SIGKILL or SIGTERM and a restart,
# the state read back the same). Two seeds of five 10-second rounds, the second with
# `--duplicate-login replace` (a second login ends the first session), then three rounds on
# two cluster nodes sharing a redis-server (both must show the same state): about three
# minutes. Needs redis-server for the last part.
#   tests/chaos/run.sh [SEED...]
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release --bin chatserver
seeds=("$@")
[ ${#seeds[@]} -gt 0 ] || seeds=(1 2)
policies=("--duplicate-login refuse" "--duplicate-login replace")
for i in "${!seeds[@]}"; do
  python3 tests/chaos/chaos.py target/release/chatserver --rounds 5 --secs 10 \
    --seed "${seeds[$i]}" --server-args "${policies[$((i % 2))]}"
done
python3 tests/chaos/chaos.py target/release/chatserver --rounds 3 --secs 10 \
  --seed "${seeds[0]}" --cluster
