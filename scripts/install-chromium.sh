#!/usr/bin/env bash
# Installs Debian's Chromium for the browser test (test/browser/web-page.test.ts) when it is
# missing. Idempotent: does nothing when /usr/bin/chromium is already there. Needs root (CI is).
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
apt_get() {
  if [ "$(id -u)" -eq 0 ]; then apt-get "$@"; else sudo apt-get "$@"; fi
}

apt_get update -qq
apt_get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
/usr/bin/chromium --version 2>/dev/null
