#!/usr/bin/env bash
# Installs everything the tests need and runs every check and test:
#   bash build/test.sh
# Stages: deps (apt, npm, Go modules) → frontend build → gofmt → go mod tidy -diff →
# staticcheck → builds (proxy and
# headless with CGO_ENABLED=0, Windows cross-compile, desktop with WebKitGTK 4.1) → the Windows
# build under wine 8 (build/wine, ~2 min) and the release files (build/test-package.sh), with
# go vet running beside them → go test
# -race of every package inside one D-Bus session with an unlocked gnome-keyring and an Xvfb
# display → the Codex CLI (npm @openai/codex) through /v1/responses (TestCodexCLI and TestWrittenCodexConfig, its own
# stage: the package is ~400 MB) → Claude Code (npm @anthropic-ai/claude-code) through
# /v1/messages (TestClaudeCodeCLI and TestWrittenClaudeConfig, its own stage for the same reason; ~30 s with install)
# → gemini-cli (npm @google/gemini-cli, ~100 MB) with the config the Connect writer made
# (TestWrittenGeminiCLIConfig). The GBD_REQUIRE_* variables make tests that need the
# keyring, the node clients, Chromium, a display, the Codex CLI, Claude Code or gemini-cli fail instead of skipping. Exits non-zero when any stage fails.
#
# Knobs: GBD_TEST_PKGS (default ./...), GBD_TEST_P (go test -p, default 2),
# GBD_TEST_TIMEOUT (default 40m), GBD_TEST_RUN (go test -run).
# shellcheck disable=SC2317 # stage functions are called through `stage`
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=build/deps.sh
source build/deps.sh

ROOT=$PWD
BIN=$ROOT/build/bin/gemini-balance-desktop
DESKTOP_TAGS=desktop,production,webkit2_41

# start_keyring starts gnome-keyring's Secret Service, unlocked, on the session bus of
# dbus-run-session, and checks that it stores and returns a secret.
start_keyring() {
  local gk_out line
  gk_out=$(mktemp)
  # --unlock reads the password from stdin; without it the keyring stays locked. Its output
  # goes to a file: the daemon forks, and a pipe would stay open.
  if printf pw | gnome-keyring-daemon --unlock --components=secrets >"$gk_out" 2>&1; then
    while IFS= read -r line; do
      case $line in [A-Z_]*=*) export "${line?}" ;; esac
    done <"$gk_out"
  else
    echo "warning: gnome-keyring-daemon failed: $(cat "$gk_out")" >&2
  fi
  rm -f "$gk_out"
  if printf probe | timeout 20 secret-tool store --label='gbd test probe' gbd-test probe >/dev/null 2>&1 &&
    [ "$(timeout 20 secret-tool lookup gbd-test probe 2>/dev/null)" = probe ]; then
    timeout 20 secret-tool clear gbd-test probe >/dev/null 2>&1 || true
    echo "keyring: unlocked and writable"
  else
    echo "warning: the Secret Service keyring does not answer: keyring tests will fail" >&2
  fi
}

# shellcheck source=build/test-package.sh
source build/test-package.sh

# ---- inside `dbus-run-session`: the installed app, started from its .desktop entry ----
if [ "${1:-}" = __desktop_entry ]; then
  pkg_desktop_entry "$2"
  exit
fi

# ---- inside `dbus-run-session`: keyring + Xvfb + go test ------------------------------
if [ "${1:-}" = __session ]; then
  start_keyring

  export GBD_REQUIRE_KEYRING=1 GBD_REQUIRE_E2E=1 GBD_REQUIRE_DISPLAY=1
  export GBD_BIN=$BIN GBD_CHROMIUM=${GBD_CHROMIUM:-/usr/bin/chromium}
  # -vet=off: the go vet stage has run every analyzer go test would.
  args=(-race -vet=off -count=1 -p "${GBD_TEST_P:-2}" -timeout "${GBD_TEST_TIMEOUT:-40m}")
  [ -n "${GBD_TEST_RUN:-}" ] && args+=(-run "$GBD_TEST_RUN")
  # shellcheck disable=SC2086 # GBD_TEST_PKGS is a list of package patterns
  exec xvfb-run -a -s '-screen 0 1280x800x24 -nolisten tcp' go test "${args[@]}" ${GBD_TEST_PKGS:-./...}
fi

# ---- stages ---------------------------------------------------------------------------
names=() results=() times=()
failed=0

# stage NAME CMD... runs CMD with errexit in a subshell and records its result and time.
stage() {
  local name=$1 start rc
  shift
  printf '\n%s=== %s%s\n' "$BOLD" "$name" "$RESET"
  start=$(date +%s)
  set +e
  (set -e; "$@")
  rc=$?
  set -e
  names+=("$name")
  times+=($(($(date +%s) - start)))
  if [ "$rc" -eq 0 ]; then
    results+=(ok)
  else
    results+=("FAILED (exit $rc)")
    failed=1
  fi
  return 0
}

summary() {
  printf '\n%s=== summary%s\n' "$BOLD" "$RESET"
  local i total=0
  for i in "${!names[@]}"; do
    printf '  %-54s %5ss  %s\n' "${names[$i]}" "${times[$i]}" "${results[$i]}"
    total=$((total + times[i]))
  done
  printf '  %-54s %5ss\n' "total" "$total"
  if [ "$failed" -ne 0 ]; then
    echo "build/test.sh: FAILED"
  else
    echo "build/test.sh: all stages passed"
  fi
}

deps() {
  ensure_apt "${BUILD_APT[@]}" "${TEST_APT[@]}" "${WINE_APT[@]}" "${PACKAGE_APT[@]}"
  ensure_go
  ensure_node
  npm_ci frontend
  npm_ci build/e2e
  go mod download
}

gofmt_check() {
  local files bad
  files=$(find . -name '*.go' -not -path './.git/*' -not -path '*/node_modules/*' -not -path './build/bin/*')
  # shellcheck disable=SC2086
  bad=$(gofmt -l $files)
  if [ -n "$bad" ]; then
    echo "gofmt -l: these files need gofmt -w:" >&2
    echo "$bad" >&2
    return 1
  fi
}

# go vet runs after the desktop build and with its flags (-trimpath, pie, the desktop tags): every
# package it needs is then compiled already and shared, so vet only analyses. Only the main
# package has tag-dependent files, so `-tags desktop… ./...` plus the main package without tags
# (nodesktop.go) vets everything both ways. It runs in the background (nice) while the wine and
# release stages mostly wait (wine, dpkg, lintian, Xvfb), and is joined before go test, which
# skips its own vet pass (-vet=off): go vet's analyzers include all of go test's.
go_vet_start() {
  VET_DIR=$(mktemp -d)
  VET_START=$(date +%s)
  (
    rc=0
    { nice go vet "${GO_FLAGS[@]}" "${DESKTOP_FLAGS[@]}" ./... &&
      nice go vet "${PIE_FLAGS[@]}" .; } >"$VET_DIR/log" 2>&1 || rc=$?
    date +%s >"$VET_DIR/end"
    echo "$rc" >"$VET_DIR/rc.tmp" && mv "$VET_DIR/rc.tmp" "$VET_DIR/rc"
  ) &
}

# go_vet_wait runs in a stage's subshell, which cannot `wait` for the background job: it
# waits for the job's rc file instead.
go_vet_wait() {
  while [ ! -f "$VET_DIR/rc" ]; do sleep 1; done
  local rc
  rc=$(cat "$VET_DIR/rc")
  cat "$VET_DIR/log"
  echo "go vet ran $(($(cat "$VET_DIR/end") - VET_START)) s in the background"
  rm -rf "$VET_DIR"
  return "$rc"
}

# go.mod and go.sum must be what `go mod tidy` makes (direct requirements not marked indirect,
# nothing missing, nothing unused).
go_mod_tidy() {
  go mod tidy -diff
}

# staticcheck (a version that knows this Go release) beside go vet: unused code, deprecated
# calls, simplifications. Pinned; `go run` builds it once into the build cache.
STATICCHECK=honnef.co/go/tools/cmd/staticcheck@v0.8.2
static_check() {
  # With the builds' flags, the packages it loads are compiled once for it and them.
  GOFLAGS="${PIE_FLAGS[*]}" go run "$STATICCHECK" ./...
}

build_nocgo() {
  CGO_ENABLED=0 go build "${GO_FLAGS[@]}" ./proxy/...
  local tmp
  tmp=$(mktemp -d)
  CGO_ENABLED=0 go build "${GO_FLAGS[@]}" -o "$tmp/gemini-balance-desktop-headless" .
  rm -rf "$tmp"
}

build_windows() {
  GOOS=windows GOARCH=amd64 CGO_ENABLED=0 go build "${GO_FLAGS[@]}" -tags desktop,production -ldflags -H=windowsgui -o /dev/null .
}

build_desktop() {
  mkdir -p build/bin
  go build "${GO_FLAGS[@]}" "${DESKTOP_FLAGS[@]}" -o "$BIN" .
}

# The release artifacts: build/test-package.sh. They reuse the packages the build stages
# compiled (same -trimpath -buildvcs=false flags), so packaging mostly links.
package_stages() {
  stage "package: build/package.sh (deb, tarballs, windows)" pkg_build
  stage "package: lintian, desktop, appstream, unit, actionlint" pkg_lint
  stage "package: .deb install, run from .desktop, purge" pkg_deb
  stage "package: windows installer and zip contents (7z)" pkg_windows
  stage "package: windows installer under wine (/S, version, uninstall)" pkg_wine
  stage "package: reproducible (second build identical)" pkg_repro
}

# The Windows lane: the Windows build under wine 8 (build/wine/wine_test.go says what it covers).
# Its wine prefix lives in a temp dir; WINEDEBUG=-all; a display from xvfb-run for the console
# and the message box.
wine_lane() {
  local tmp rc=0
  tmp=$(mktemp -d)
  GOOS=windows GOARCH=amd64 CGO_ENABLED=0 go build "${GO_FLAGS[@]}" -tags desktop,production -ldflags -H=windowsgui \
    -o "$tmp/gemini-balance-desktop.exe" .
  GOOS=windows GOARCH=amd64 CGO_ENABLED=0 go build "${GO_FLAGS[@]}" -o "$tmp/gemini-balance-desktop.com" ./build/windows/cli
  GOOS=windows GOARCH=amd64 CGO_ENABLED=0 go build "${GO_FLAGS[@]}" -o "$tmp/consolehost.exe" ./build/wine/consolehost
  local p
  for p in app app/private proxy/sysproxy; do
    GOOS=windows GOARCH=amd64 CGO_ENABLED=0 go test -c -o "$tmp/$(basename "$p").test.exe" "./$p"
  done
  local t0=$SECONDS
  build/wine/prefix.sh "$tmp/prefix"
  echo "wine prefix: $((SECONDS - t0)) s"
  GBD_WINE_DIR=$tmp xvfb-run -a -s '-screen 0 1280x800x24 -nolisten tcp' \
    go test -count=1 -v -timeout 5m -run TestWindowsUnderWine ./build/wine/ || rc=$?
  WINEPREFIX=$tmp/prefix wineserver -k 2>/dev/null || true
  rm -rf "$tmp"
  return "$rc"
}

go_test() {
  dbus-run-session -- bash "$ROOT/build/test.sh" __session
}

# codex_cli installs the Codex CLI (npm @openai/codex, ~400 MB with its native binary: kept
# out of build/e2e so the other node tests do not pay for it) and drives `codex exec`
# through /v1/responses with three model names (TestCodexCLI). ~15 s with a warm npm cache.
codex_cli() {
  npm_ci build/e2e/codex
  GBD_REQUIRE_CODEX=1 go test -count=1 -run '^TestCodexCLI$' ./proxy/
  # The config.toml the Connect writer merges, used by codex exec as is (~2 s).
  GBD_REQUIRE_CODEX=1 go test -count=1 -run '^TestWrittenCodexConfig$' ./app/
}

claude_code_cli() {
  npm_ci build/e2e/claude
  GBD_REQUIRE_CLAUDE=1 go test -count=1 -run '^TestClaudeCodeCLI$' ./proxy/
  # The settings.json the Connect writer merges, used by claude -p as is (~2 s).
  GBD_REQUIRE_CLAUDE=1 go test -count=1 -run '^TestWrittenClaudeConfig$' ./app/
}

# gemini_cli installs gemini-cli 0.61 (npm @google/gemini-cli, ~100 MB) and runs `gemini -p`
# against the proxy with nothing but the ~/.gemini/settings.json and .env the Connect writer
# merged (TestWrittenGeminiCLIConfig).
gemini_cli() {
  npm_ci build/e2e/gemini-cli
  GBD_REQUIRE_GEMINI_CLI=1 go test -count=1 -run '^TestWrittenGeminiCLIConfig$' ./app/
}

# Only the release stages (frontend/dist must be built): bash build/test-package.sh
if [ "${1:-}" = __packages ]; then
  package_stages
  summary
  exit "$failed"
fi

stage "deps (apt, npm ci, go mod download)" deps
if [ "$failed" -ne 0 ]; then
  summary
  exit 1
fi
stage "frontend build (tsc + vite)" build_frontend
stage "gofmt -l" gofmt_check
stage "go mod tidy -diff" go_mod_tidy
stage "staticcheck" static_check
stage "build proxy + headless (CGO_ENABLED=0)" build_nocgo
stage "build windows (GOOS=windows, cross)" build_windows
stage "build desktop (-tags $DESKTOP_TAGS)" build_desktop
go_vet_start
stage "windows under wine (build/wine)" wine_lane
package_stages
stage "go vet (ran beside the wine and release stages)" go_vet_wait
stage "go test -race (dbus + keyring + Xvfb)" go_test
stage "Codex CLI through /v1/responses (npm @openai/codex)" codex_cli
stage "Claude Code through /v1/messages (npm @anthropic-ai/claude-code)" claude_code_cli
stage "gemini-cli with the Connect writer's config (npm @google/gemini-cli)" gemini_cli
summary
exit "$failed"
