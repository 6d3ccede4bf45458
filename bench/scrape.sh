#!/usr/bin/env bash
# Does scraping /metrics once a second slow a fan-out? One server with --http-port, ROUNDS
# rounds alternating: the fan-out row plain, with the loadgen's own scraper thread
# (`--metrics`), and with `curl` scraping from a separate process (issue 19; BENCHMARKS.md
# "The ratchet at stop 28"). Prints each run's RESULT line.
#   bench/scrape.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-5}
source bench/lib.sh
build_unless_given
need curl curl
ulimit -n "$(ulimit -Hn)"
setup_work scrape 2000
WEB=1
FAN=(--members 100 --messages 20000 --size 32 --window 1000)
start chatserver
for _ in $(seq "$ROUNDS"); do
  lg chatserver fanout "${FAN[@]}" --runs 1 --variant plain
  lg chatserver fanout "${FAN[@]}" --runs 1 --variant thread-scraped \
    --metrics "127.0.0.1:$HTTP_PORT" --scrape-every 1
  ( while :; do curl -s "http://127.0.0.1:$HTTP_PORT/metrics" > /dev/null; sleep 1; done ) &
  SCRAPER=$!
  lg chatserver fanout "${FAN[@]}" --runs 1 --variant curl-scraped
  kill "$SCRAPER"; wait "$SCRAPER" 2>/dev/null || true
done
stop_server
