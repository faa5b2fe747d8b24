#!/usr/bin/env bash
# The console's browser test drives Debian's Chromium through playwright-core (no browser download).
# Installs it when missing and this user can (root with apt-get); otherwise says how.
set -euo pipefail
path="${CHROMIUM_PATH:-/usr/bin/chromium}"
[ -x "$path" ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's chromium for the console's browser test"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null
else
  echo "no Chromium at $path: install Debian's chromium package (or set CHROMIUM_PATH) for the browser test" >&2
fi
