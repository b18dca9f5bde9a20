# shellcheck shell=bash
# The release stages of build/test.sh (sourced by it, not run): build the artifacts with
# build/package.sh, lint them, install the .deb on this machine and start the installed app the
# way a desktop menu does, check the Windows installer, and check that a second build is
# byte-identical. Each function is one stage; they run in build/test.sh's order.
#
# Run alone (what the stages need is already installed): bash build/test-package.sh

PKG_DIST=${GBD_DIST:-$ROOT/build/dist}
PKG_NAME=gemini-balance-desktop
PKG_ACTIONLINT=github.com/rhysd/actionlint/cmd/actionlint@v1.7.12
# The version the tests package: a pre-release of wails.json's version, named after the commit.
PKG_VERSION=${GBD_PKG_VERSION:-}

pkg_sudo() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# pkg_build runs build/package.sh (every target) into build/dist.
pkg_build() {
  ensure_apt "${PACKAGE_APT[@]}"
  GBD_SKIP_FRONTEND=1 bash build/package.sh $PKG_VERSION
  ls "$PKG_DIST"/*.deb "$PKG_DIST"/*-linux-amd64.tar.gz "$PKG_DIST"/*-linux-arm64.tar.gz \
    "$PKG_DIST"/*-windows-amd64-setup.exe "$PKG_DIST"/*-windows-amd64-portable.zip >/dev/null
  (cd "$PKG_DIST" && sha256sum --check --quiet SHA256SUMS)
  local f
  for f in "$PKG_DIST"/*; do
    case $(basename "$f") in
      SHA256SUMS) ;;
      *_amd64.deb | *-linux-amd64.tar.gz | *-linux-arm64.tar.gz | *-windows-amd64-*) ;;
      *) echo "artifact without version and architecture in its name: $f" >&2; return 1 ;;
    esac
  done
}

# pkg_lint: lintian (no tag left but the justified overrides), desktop-file-validate,
# appstreamcli validate, the systemd unit of the tarball, actionlint on the workflows.
pkg_lint() {
  local deb tmp
  deb=$(echo "$PKG_DIST"/*.deb)
  lintian --info --pedantic --display-experimental --show-overrides \
    --fail-on error,warning,info,pedantic,experimental "$deb"
  tmp=$(mktemp -d)
  dpkg-deb -x "$deb" "$tmp"
  # Depends names every library package the binary links (as dpkg-shlibdeps finds them here).
  local depends need lib
  depends=$(dpkg-deb -f "$deb" Depends)
  mkdir -p "$tmp/shlibs/debian"
  printf 'Source: x\n\nPackage: x\nArchitecture: any\n' >"$tmp/shlibs/debian/control"
  need=$(cd "$tmp/shlibs" && dpkg-shlibdeps -O "$tmp/usr/bin/$PKG_NAME" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
  echo "dpkg-shlibdeps: $need"
  echo "Depends:        $depends"
  for lib in $(tr ',|' '\n\n' <<<"$need" | sed 's/(.*//; s/ //g'); do
    grep -Eq "(^|[ ,|])${lib%t64}(t64)?( |,|$)" <<<"$depends" ||
      { echo "Depends lacks $lib, which the binary links" >&2; return 1; }
  done
  desktop-file-validate "$tmp/usr/share/applications/$PKG_NAME.desktop"
  appstreamcli validate --no-net --explain "$tmp"/usr/share/metainfo/*.metainfo.xml
  # The unit as shipped, pointed at the extracted static binary.
  tar -xzf "$(echo "$PKG_DIST"/*-linux-amd64.tar.gz)" -C "$tmp"
  sed "s#/usr/local/bin/$PKG_NAME#$(echo "$tmp"/*-linux-amd64/$PKG_NAME)#" \
    "$tmp"/*-linux-amd64/$PKG_NAME.service >"$tmp/$PKG_NAME.service"
  if command -v systemd-analyze >/dev/null; then
    local out
    out=$(systemd-analyze verify "$tmp/$PKG_NAME.service" 2>&1) || true
    [ -z "$out" ] || { echo "systemd-analyze verify $PKG_NAME.service: $out" >&2; return 1; }
  fi
  local kind
  kind=$(file "$tmp"/*-linux-amd64/$PKG_NAME)
  echo "$kind"
  grep -q 'statically linked' <<<"$kind" || { echo "the headless binary is not static" >&2; return 1; }
  rm -rf "$tmp"
  if [ -d .github/workflows ]; then
    go run "$PKG_ACTIONLINT" -no-color .github/workflows/*.yml
  fi
}

# pkg_deb: install the .deb, run the installed `version`, start the app from the .desktop
# entry's Exec line (Xvfb, D-Bus, unlocked gnome-keyring, a temporary HOME, a free port): the
# window appears and the proxy answers /healthz. Then purge the package: the user's data must
# be untouched.
pkg_deb() {
  local deb version home data before after rc=0
  deb=$(echo "$PKG_DIST"/*.deb)
  version=$(dpkg-deb -f "$deb" Version)
  pkg_sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$deb" >/dev/null
  # The stage runs in a subshell: never leave the package installed.
  trap 'pkg_sudo env DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq '"$PKG_NAME"' >/dev/null 2>&1 || true' EXIT
  dpkg-query -W -f='installed ${Package} ${Version}\n' "$PKG_NAME"
  local out
  out=$("/usr/bin/$PKG_NAME" version)
  echo "$out"
  case $out in
    *"$(git rev-parse --short=12 HEAD)"*" built "*) ;;
    *) echo "version: want the commit and the build date in '$out'" >&2; return 1 ;;
  esac
  [ "$(dpkg-query -W -f='${Version}' "$PKG_NAME")" = "$version" ]

  home=$(mktemp -d)
  data=$home/.config/$PKG_NAME
  dbus-run-session -- bash "$ROOT/build/test.sh" __desktop_entry "$home" || rc=$?
  [ "$rc" -eq 0 ] || { rm -rf "$home"; return "$rc"; }
  [ -f "$data/gemini-balance.db" ] || { echo "the app made no database in $data" >&2; return 1; }
  # The user's data: the app's data dir and the keyring (WebKit's caches may still be written
  # by its helper processes as they wind down).
  local keep=(".config/$PKG_NAME") d
  for d in .local/share/keyrings; do [ -d "$home/$d" ] && keep+=("$d"); done
  before=$(cd "$home" && find "${keep[@]}" -type f -print0 | sort -z | xargs -0 sha256sum)

  pkg_sudo env DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq "$PKG_NAME" >/dev/null
  ! dpkg-query -W -f='${db:Status-Status}' "$PKG_NAME" 2>/dev/null | grep -q installed
  [ ! -e "/usr/bin/$PKG_NAME" ] || { echo "/usr/bin/$PKG_NAME is still there after purge" >&2; return 1; }
  after=$(cd "$home" && find "${keep[@]}" -type f -print0 | sort -z | xargs -0 sha256sum)
  if [ "$before" != "$after" ]; then
    echo "purging the package changed the user's files:" >&2
    diff <(echo "$before") <(echo "$after") >&2 || true
    return 1
  fi
  echo "user data kept after purge: $(echo "$after" | wc -l) files in ${keep[*]}"
  rm -rf "$home"
}

# pkg_windows: the installer holds the app, its texts and an uninstaller, asks for no
# administrator rights and carries the version; the exe carries icon, manifest and version
# information; the portable zip holds the same exe.
pkg_windows() {
  local setup zip list exe tmp
  setup=$(echo "$PKG_DIST"/*-windows-amd64-setup.exe)
  zip=$(echo "$PKG_DIST"/*-windows-amd64-portable.zip)
  7z l "$setup" | sed -n '/^   Date/,$p'
  list=$(7z l -slt "$setup")
  local f
  for f in $PKG_NAME.exe $PKG_NAME.com README.txt CHANGELOG.md uninstall.exe; do
    grep -qx "Path = $f" <<<"$list" || { echo "the installer lacks $f" >&2; return 1; }
  done
  7z x -so -tPE "$setup" .rsrc/MANIFEST/1 | grep -q 'requestedExecutionLevel level="asInvoker"' ||
    { echo "the installer asks for more than the user's rights" >&2; return 1; }
  tmp=$(mktemp -d)
  (cd "$tmp" && 7z x -y -bso0 -bsp0 "$setup" "$PKG_NAME.exe" && unzip -q "$zip")
  exe=$(echo "$tmp"/*-windows-amd64/$PKG_NAME.exe)
  cmp "$tmp/$PKG_NAME.exe" "$exe" || { echo "installer and zip hold different programs" >&2; return 1; }
  list=$(7z l "$exe")
  for f in .rsrc/0/GROUP_ICON/APP .rsrc/1033/MANIFEST/1 .rsrc/1033/version.txt; do
    grep -q " $f\$" <<<"$list" || { echo "the exe lacks the resource $f" >&2; return 1; }
  done
  local version
  version=$(sed -n 's/.*-\([0-9][^-]*\(-[^-]*\)\{0,1\}\)-windows-amd64-setup.exe$/\1/p' <<<"$setup")
  local info
  info=$(7z x -so "$exe" .rsrc/1033/version.txt | tr -d '\0' | grep '"ProductVersion"')
  echo "exe version information: $info"
  grep -qF "\"$version\"" <<<"$info" || { echo "the exe's version information is not $version" >&2; return 1; }
  rm -rf "$tmp"
}

# pkg_wine installs the Windows installer silently under Debian's wine 8 (a throw-away prefix
# from build/wine/prefix.sh, which adds the bcryptprimitives.dll stand-in Go needs), runs the
# installed `version` through the console twin, checks the Start-menu entry, the uninstaller's
# registration and the start-at-login value, then uninstalls silently: the program goes, a file
# in the user's data dir stays.
pkg_wine() {
  local setup tmp inst data out version rc=0
  setup=$(echo "$PKG_DIST"/*-windows-amd64-setup.exe)
  tmp=$(mktemp -d)
  build/wine/prefix.sh "$tmp/prefix"
  export WINEPREFIX=$tmp/prefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
  # The installer's own window stays hidden with /S; wine still wants a display for its message loop.
  xvfb-run -a -s '-screen 0 1024x768x24 -nolisten tcp' bash -c '
    set -e
    start=$(date +%s)
    timeout 180 wine "$1" /S /AUTOSTART
    wineserver -w
    echo "silent install: $(( $(date +%s) - start )) s"
  ' _ "$setup" || rc=$?
  [ "$rc" -eq 0 ] || { echo "the installer failed under wine (exit $rc)" >&2; return 1; }
  inst=$(find "$WINEPREFIX/drive_c/users" -path "*/AppData/Local/Programs/Gemini Balance Desktop" -type d | head -n1)
  [ -n "$inst" ] || { echo "nothing installed in %LocalAppData%\\Programs" >&2; return 1; }
  ls -l "$inst"
  local f
  for f in $PKG_NAME.exe $PKG_NAME.com README.txt CHANGELOG.md uninstall.exe; do
    [ -f "$inst/$f" ] || { echo "the install lacks $f" >&2; return 1; }
  done
  find "$WINEPREFIX/drive_c/users" -path "*/Start Menu/Programs/Gemini Balance Desktop.lnk" | grep -q . ||
    { echo "no Start-menu entry" >&2; return 1; }
  out=$(timeout 60 wine reg query 'HKCU\Software\Microsoft\Windows\CurrentVersion\Uninstall\GeminiBalanceDesktop' /v DisplayVersion 2>/dev/null | tr -d '\r')
  version=$(sed -n 's/.*-\([0-9][^-]*\(-[^-]*\)\{0,1\}\)-windows-amd64-setup.exe$/\1/p' <<<"$setup")
  grep -q "$version" <<<"$out" || { echo "uninstall registration: $out" >&2; return 1; }
  out=$(timeout 60 wine reg query 'HKCU\Software\Microsoft\Windows\CurrentVersion\Run' /v GeminiBalanceDesktop 2>/dev/null | tr -d '\r')
  grep -q -- '--hidden' <<<"$out" || { echo "/AUTOSTART wrote no Run value: $out" >&2; return 1; }
  out=$(timeout 120 wine "$inst/$PKG_NAME.com" version 2>/dev/null | tr -d '\r')
  echo "installed version under wine: $out"
  grep -q "gemini-balance-desktop $version (commit" <<<"$out" || { echo "version printed '$out'" >&2; return 1; }

  data=$(dirname "$(dirname "$inst")")/../Roaming/$PKG_NAME
  mkdir -p "$data" && echo keep >"$data/keep.txt"
  timeout 120 wine "$inst/uninstall.exe" /S
  wineserver -w
  sleep 2 # the uninstaller runs a copy of itself from %TEMP% and returns at once
  wineserver -w
  [ ! -e "$inst/$PKG_NAME.exe" ] || { echo "the uninstaller left the program" >&2; return 1; }
  [ "$(cat "$data/keep.txt" 2>/dev/null)" = keep ] || { echo "the uninstaller removed the user's data" >&2; return 1; }
  echo "uninstalled; the user's data dir is kept"
  wineserver -k 2>/dev/null || true
  rm -rf "$tmp"
}

# pkg_repro builds everything a second time into another folder: every artifact must be
# byte-identical to the first build (same names, same SHA256SUMS).
pkg_repro() {
  local tmp
  tmp=$(mktemp -d)
  GBD_SKIP_FRONTEND=1 GBD_DIST=$tmp bash build/package.sh $PKG_VERSION 2>/dev/null
  if ! diff "$PKG_DIST/SHA256SUMS" "$tmp/SHA256SUMS"; then
    echo "a second build from the same commit differs (above: first < > second)" >&2
    rm -rf "$tmp"
    return 1
  fi
  echo "second build identical: $(wc -l <"$tmp/SHA256SUMS") artifacts"
  cat "$tmp/SHA256SUMS"
  rm -rf "$tmp"
}

# pkg_desktop_entry HOME runs inside dbus-run-session (build/test.sh __desktop_entry HOME).
pkg_desktop_entry() {
  local home=$1 entry exec port log pid win='' i
  export HOME=$home XDG_CONFIG_HOME=$home/.config XDG_DATA_HOME=$home/.local/share \
    XDG_CACHE_HOME=$home/.cache XDG_STATE_HOME=$home/.local/state XDG_RUNTIME_DIR=$home/run
  mkdir -p "$XDG_RUNTIME_DIR" && chmod 0700 "$XDG_RUNTIME_DIR"
  unset GBD_DATA_DIR GBD_SECRET_STORE GBD_PASSPHRASE GBD_PASSPHRASE_FILE
  start_keyring

  entry=/usr/share/applications/$PKG_NAME.desktop
  exec=$(sed -n 's/^Exec=//p' "$entry" | head -n1)
  [ "$(command -v "${exec%% *}")" = "/usr/bin/$PKG_NAME" ] ||
    { echo "the Exec line '$exec' does not start the installed /usr/bin/$PKG_NAME" >&2; return 1; }
  exec=$(printf '%s' "$exec" | sed 's/ *%[fFuUdDnNickvm]//g')
  [ -n "$exec" ] || { echo "no Exec line in $entry" >&2; return 1; }
  port=$(free_port)
  export GBD_ADDR=127.0.0.1:$port
  log=$home/app.log
  echo "starting the Exec line of $entry: $exec (GBD_ADDR=$GBD_ADDR, HOME=$home)"
  # shellcheck disable=SC2086 # the Exec line is split into words, as a desktop does
  xvfb-run -a -s '-screen 0 1280x800x24 -nolisten tcp' bash -c '
    '"$exec"' >"$1" 2>&1 &
    app=$!
    win=""
    for i in $(seq 1 120); do
      kill -0 "$app" 2>/dev/null || { echo "the app exited early:"; cat "$1"; exit 1; }
      win=$(xdotool search --name "^Gemini Balance Desktop$" 2>/dev/null | head -n1 || true)
      if [ -n "$win" ] && curl -fsS --max-time 2 "http://127.0.0.1:$2/healthz" >/dev/null 2>&1; then
        break
      fi
      sleep 0.5
    done
    ok=1
    [ -n "$win" ] || { echo "no window named \"Gemini Balance Desktop\" within 60 s"; ok=0; }
    curl -fsS --max-time 2 "http://127.0.0.1:$2/healthz" || { echo "the proxy does not answer /healthz on port $2"; ok=0; }
    echo
    [ "$ok" = 1 ] && echo "window $win is up, /healthz answers on 127.0.0.1:$2"
    kill -TERM "$app" 2>/dev/null
    for i in $(seq 1 40); do kill -0 "$app" 2>/dev/null || break; sleep 0.25; done
    kill -KILL "$app" 2>/dev/null || true
    wait "$app" 2>/dev/null || true
    [ "$ok" = 1 ] || { echo "--- app log"; cat "$1"; exit 1; }
  ' _ "$log" "$port"
}

# free_port prints a TCP port nobody listens on at 127.0.0.1.
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 40000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  cd "$(dirname "$0")/.."
  exec bash build/test.sh __packages
fi
