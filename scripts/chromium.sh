#!/usr/bin/env bash
# Print the path of a Chromium for the playground's browser tests, installing Debian's package when there is none
# (as root, with apt-get). Never a browser build downloaded by a package of its own: CHROMIUM=... picks another.
set -euo pipefail
find_chromium() {
  if [[ -n "${CHROMIUM:-}" && -x "${CHROMIUM}" ]]; then echo "${CHROMIUM}"; return 0; fi
  command -v chromium || command -v chromium-browser || command -v google-chrome || return 1
}
if path="$(find_chromium)"; then echo "${path}"; exit 0; fi
if [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's chromium for the browser tests" >&2
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2
  find_chromium && exit 0
fi
echo "no Chromium: install Debian's (apt-get install chromium) or set CHROMIUM=/path/to/chromium" >&2
exit 1
