# shellcheck shell=bash disable=SC2034
# Shared by build/run.sh and build/test.sh (sourced, not run): install what is missing on a
# Debian/Ubuntu machine, quickly when everything is already there.

# The packages to build the desktop binary (cgo, GTK 3, WebKitGTK 4.1 → build tag webkit2_41).
BUILD_APT=(libgtk-3-dev libwebkit2gtk-4.1-dev pkg-config gcc)
# And to run every test: a virtual display, a session bus with an unlocked keyring, tools to
# look at windows, and Chromium for the browser tests.
TEST_APT=(xvfb xauth dbus dbus-x11 gnome-keyring libsecret-tools imagemagick x11-utils xdotool xclip chromium fonts-wqy-microhei python3)
# The Windows lane: the Windows build under wine 8, with the stand-in bcryptprimitives.dll built
# by mingw-w64 (build/wine/prefix.sh); locales for a Chinese host locale (wine's UI language).
WINE_APT=(wine wine64 gcc-mingw-w64-x86-64 locales)

# Flags of every Go build of build/package.sh (reproducible: no paths, no VCS stamp) and of the
# build and vet stages of build/test.sh, which then compile each package once for all of them.
GO_FLAGS=(-trimpath -buildvcs=false)
# The desktop binary on Linux (WebKitGTK 4.1), position-independent (ASLR; lintian asks for it).
# pie compiles every package differently: test.sh's go vet and staticcheck use PIE_FLAGS too, so
# that they and the desktop build compile each package once.
PIE_FLAGS=(-trimpath -buildvcs=false -buildmode=pie)
DESKTOP_FLAGS=(-buildmode=pie -tags desktop,production,webkit2_41)

# And to build and check the release artifacts (build/package.sh, build/test-package.sh).
PACKAGE_APT=(imagemagick nsis zip p7zip-full lintian desktop-file-utils appstream dpkg-dev file curl)

# Minimum Node.js for Vite 8 (and the pinned client SDKs).
NODE_MIN=20.19.0

export DEBIAN_FRONTEND=noninteractive
export NPM_CONFIG_AUDIT=false NPM_CONFIG_FUND=false NPM_CONFIG_UPDATE_NOTIFIER=false

# Bold headings on a terminal, plain text in CI logs.
if [ -t 2 ]; then BOLD=$'\033[1m' RESET=$'\033[0m'; else BOLD='' RESET=''; fi
log() { printf '%s==> %s%s\n' "$BOLD" "$*" "$RESET" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Go installs to /usr/local/go on most machines without putting it on PATH for scripts.
for d in /usr/local/go/bin "$HOME/go/bin"; do
  case ":$PATH:" in *":$d:"*) ;; *) [ -d "$d" ] && PATH="$PATH:$d" ;; esac
done
export PATH

# missing_apt PKG... prints the packages that are not installed.
missing_apt() {
  local p status
  for p in "$@"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$status" = installed ] || printf '%s\n' "$p"
  done
}

# ensure_apt PKG... installs the missing packages (apt-get update first, only then).
ensure_apt() {
  command -v dpkg-query >/dev/null || die "not a Debian/Ubuntu system (no dpkg); install by hand: $*"
  local missing
  mapfile -t missing < <(missing_apt "$@")
  [ "${#missing[@]}" -eq 0 ] && return 0
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || die "missing packages (${missing[*]}) and no sudo: run as root: apt-get install ${missing[*]}"
    sudo=(sudo)
  fi
  log "apt: installing ${missing[*]}"
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  mapfile -t missing < <(missing_apt "$@")
  [ "${#missing[@]}" -eq 0 ] || die "apt could not install: ${missing[*]}"
}

version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }

ensure_go() {
  command -v go >/dev/null || die "Go is not installed: install Go 1.25 or newer (https://go.dev/dl/) and put it on PATH"
  local v
  v=$(go env GOVERSION); v=${v#go}
  version_ge "$v" 1.25 || die "Go $v is too old: this project needs Go 1.25 or newer"
}

ensure_node() {
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    log "Node.js not found: trying Debian's nodejs/npm"
    ensure_apt nodejs npm
  fi
  local v
  v=$(node --version); v=${v#v}
  version_ge "$v" "$NODE_MIN" || die "Node.js $v is too old: the frontend build (Vite 8) needs Node.js $NODE_MIN or newer"
}

# npm_ci DIR installs DIR's locked npm packages unless they are already installed from the
# same package-lock.json. A go.mod in node_modules keeps `go ... ./...` out of it.
npm_ci() {
  local dir=$1 stamp sum
  stamp="$dir/node_modules/.gbd-lock-sha256"
  sum=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ]; then
    return 0
  fi
  log "npm ci in $dir"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  printf 'module ignore_node_modules\n' >"$dir/node_modules/go.mod"
  printf '%s\n' "$sum" >"$stamp"
}

build_frontend() {
  npm_ci frontend
  log "frontend: npm run build"
  (cd frontend && npm run --silent build)
  # main.go embeds frontend/dist; the committed dist/.gitkeep comes back from public/.
  [ -f frontend/dist/.gitkeep ] || : >frontend/dist/.gitkeep
}

# have_display tells whether a window can be shown.
have_display() { [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; }
