#!/usr/bin/env bash
# The page in a real browser (issue 19): headless Chromium (Debian's chromium and
# chromium-driver) driven by Selenium (PyPI), against a release build of the server.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=target/web-venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import selenium' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q kosoku selenium
fi
cargo build --release --bin chatserver
mkdir -p docs
"$venv/bin/python" tests/browser/test_page.py
