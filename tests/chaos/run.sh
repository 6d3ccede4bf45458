#!/usr/bin/env bash
# Chaos across front-ends against the release build (tests/chaos/chaos.py: random and hostile
# commands from line, IRC, JSON and WebSocket users, then SIGKILL or SIGTERM and a restart,
# the state read back the same). Two seeds of five 10-second rounds: about two minutes.
#   tests/chaos/run.sh [SEED...]
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release --bin chatserver
seeds=("$@")
[ ${#seeds[@]} -gt 0 ] || seeds=(1 2)
for seed in "${seeds[@]}"; do
  python3 tests/chaos/chaos.py target/release/chatserver --rounds 5 --secs 10 --seed "$seed"
done
