#!/usr/bin/env bash
# Installs what is missing, builds Gemini Balance Desktop and starts it:
#   bash build/run.sh [ARGS...]
# With a display ($DISPLAY or $WAYLAND_DISPLAY) it builds the desktop app (window + tray) and
# runs it; without one (servers, WSL without WSLg, containers, SSH) it builds the headless
# binary and runs `serve`. Extra arguments go to the binary, e.g.
#   bash build/run.sh serve --addr 127.0.0.1:9000
# Set GBD_HEADLESS=1 to force the headless mode.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=build/deps.sh
source build/deps.sh

headless=0
if [ "${GBD_HEADLESS:-}" = 1 ]; then
  headless=1
elif ! have_display; then
  headless=1
  log "no display (\$DISPLAY and \$WAYLAND_DISPLAY are empty): building and running the headless proxy instead of the window."
  log "the web UI is served by the proxy at the address printed below."
fi

if [ "$headless" = 0 ]; then
  ensure_apt "${BUILD_APT[@]}" # the headless binary is pure Go: no C libraries needed
fi
ensure_go
ensure_node
log "go mod download"
go mod download
build_frontend

mkdir -p build/bin
if [ "$headless" = 1 ]; then
  bin=build/bin/gemini-balance-desktop-headless
  log "go build (headless, CGO_ENABLED=0) -> $bin"
  CGO_ENABLED=0 go build -o "$bin" .
  if [ "$#" -eq 0 ] || [ "${1#-}" != "$1" ]; then
    set -- serve "$@"
  fi
else
  bin=build/bin/gemini-balance-desktop
  log "go build -tags desktop,production,webkit2_41 -> $bin"
  go build -tags desktop,production,webkit2_41 -o "$bin" .
fi

log "starting: $bin $*"
exec "$bin" "$@"
