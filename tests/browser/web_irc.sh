#!/usr/bin/env bash
# A real web IRC client over the text.ircv3.net subprotocol (issue 19): Kiwi IRC's IRC
# library (npm irc-framework, its prebuilt browser bundle) in headless Chromium, driven by
# Selenium. Needs npm (to fetch the package tarball; nothing is built), chromium,
# chromium-driver and python3-venv.
set -euo pipefail
cd "$(dirname "$0")/../.."
version=4.14.0
pkg=target/irc-framework-$version
if [ ! -f "$pkg/package/dist/browser/static/browser.js" ]; then
  mkdir -p "$pkg"
  (cd "$pkg" && npm pack -q "irc-framework@$version" >/dev/null && tar xzf "irc-framework-$version.tgz")
fi
venv=target/web-venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import selenium' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q kosoku selenium
fi
cargo build --release --bin chatserver
"$venv/bin/python" tests/browser/web_irc.py "$pkg/package/dist/browser/static/browser.js"
