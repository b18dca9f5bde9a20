#!/usr/bin/env bash
# Builds the release artifacts of one version into build/dist/:
#   bash build/package.sh [VERSION]
#
#   gemini-balance-desktop_VERSION_amd64.deb                      Linux desktop app (window + tray)
#   gemini-balance-desktop-VERSION-linux-{amd64,arm64}.tar.gz     Linux headless (static, CGO_ENABLED=0)
#   gemini-balance-desktop-VERSION-windows-amd64-setup.exe        Windows per-user installer (NSIS)
#   gemini-balance-desktop-VERSION-windows-amd64-portable.zip     Windows, unpack and run
#   SHA256SUMS
#
# VERSION defaults to $GBD_VERSION, then to the v-tag on HEAD (without the v), then to
# "<productVersion of wails.json>-dev.<commit>". Builds are reproducible: -trimpath,
# -buildvcs=false, an empty build id, the build date and every file time taken from
# SOURCE_DATE_EPOCH (default: the commit time), sorted archives without owners; building twice
# from one commit gives byte-identical artifacts (build/test.sh checks it).
#
# Knobs: GBD_TARGETS (default "deb headless windows"; the macOS app is built by
# .github/workflows/release.yml on a macOS runner), GBD_DIST (default build/dist),
# GBD_SKIP_FRONTEND=1 (frontend/dist is already built).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=build/deps.sh
source build/deps.sh

ROOT=$PWD
NAME=gemini-balance-desktop
DIST=${GBD_DIST:-$ROOT/build/dist}
TARGETS=${GBD_TARGETS:-deb headless windows}
# Pinned Go tools, fetched through the module proxy (go run caches the built tool).
NFPM=github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.45.2
WINRES=github.com/tc-hib/go-winres@v0.3.3

json_field() { sed -n "s/^ *\"$1\": *\"\\(.*\\)\",\\{0,1\\}\$/\\1/p" wails.json | head -n1; }
PRODUCT=$(json_field productName)
COMPANY=$(json_field companyName)
COPYRIGHT=$(json_field copyright)
COMMENTS=$(json_field comments)

COMMIT=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
if [ "$COMMIT" != unknown ] && [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
  COMMIT=$COMMIT-dirty
fi
VERSION=${1:-${GBD_VERSION:-}}
if [ -z "$VERSION" ]; then
  VERSION=$(git describe --tags --exact-match --match 'v[0-9]*' 2>/dev/null || true)
  VERSION=${VERSION#v}
fi
[ -n "$VERSION" ] || VERSION="$(json_field productVersion)-dev.${COMMIT%-dirty}"
VERSION=${VERSION#v}
[[ $VERSION =~ ^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$ ]] ||
  die "version '$VERSION' is not semantic (MAJOR.MINOR.PATCH[-PRERELEASE])"
# Windows wants four numbers.
VERSION4="${VERSION%%[-+]*}.0"

SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
export SOURCE_DATE_EPOCH TZ=UTC LC_ALL=C
BUILD_DATE=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
DAY=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%d)

LDFLAGS="-s -w -buildid= -X main.version=$VERSION -X main.commit=$COMMIT -X main.date=$BUILD_DATE"
GOBUILD=(go build "${GO_FLAGS[@]}")

TMP=$(mktemp -d)
SYSO=$ROOT/rsrc_windows_amd64.syso
trap 'rm -rf "$TMP" "$SYSO"' EXIT

# fix_times DIR gives every file and folder under DIR the same time and plain modes.
fix_times() {
  find "$1" -type d -exec chmod 0755 {} +
  find "$1" -type f ! -perm -u+x -exec chmod 0644 {} +
  find "$1" -type f -perm -u+x -exec chmod 0755 {} +
  find "$1" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
}

# tar_gz DIR OUT packs DIR (its name as the top folder) reproducibly.
tar_gz() {
  fix_times "$1"
  tar -C "$(dirname "$1")" --sort=name --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 \
    --numeric-owner --format=gnu -cf - "$(basename "$1")" | gzip -n -9 >"$2"
}

# zip_dir DIR OUT zips DIR (its name as the top folder) reproducibly: sorted, no extra fields.
zip_dir() {
  fix_times "$1"
  (cd "$(dirname "$1")" && find "$(basename "$1")" -print | sort | zip -q -X -9 -D -@ "$2")
}

# debian_changelog prints the changelog the .deb carries (Debian's format; the user-facing one
# is CHANGELOG.md).
debian_changelog() {
  printf '%s (%s) unstable; urgency=medium\n\n' "$NAME" "$(deb_version)"
  printf '  * Release %s, built from commit %s.\n' "$VERSION" "$COMMIT"
  printf '    What changed is in CHANGELOG.md of the project.\n\n'
  printf ' -- Gemini Balance Team <team@gemini-balance.invalid>  %s\n' \
    "$(date -u -R -d "@$SOURCE_DATE_EPOCH")"
}

# man_page BINARY prints a manual page made from the program's own --help text, so that it
# stays true as commands and flags change.
man_page() {
  printf '.TH GEMINI-BALANCE-DESKTOP 1 "%s" "%s %s" "User Commands"\n' "$DAY" "$NAME" "$VERSION"
  printf '.SH NAME\n%s \\- local Gemini API proxy that balances requests over your API keys\n' "$NAME"
  printf '.SH DESCRIPTION\n.nf\n'
  "$1" --help 2>&1 | sed -e 's/\\/\\e/g' -e "s/^\([.']\)/\\\\\&\\1/"
  printf '.fi\n.SH FILES\n.TP\n.I ~/.config/%s\n' "$NAME"
  printf 'The data dir: the SQLite database (never a key) and, with the file secret store,\n'
  printf 'the encrypted key file. Removing the package leaves it in place.\n'
  printf '.SH SEE ALSO\nThe README of the project, and /usr/share/doc/%s.\n' "$NAME"
}

# deb_version is VERSION as nfpm writes it into the control file (a pre-release sorts first: ~).
deb_version() {
  local v=${VERSION%%+*}
  case $v in *-*) v="${v%%-*}~${v#*-}" ;; esac
  printf '%s' "$v"
}

build_deb() {
  ensure_apt "${BUILD_APT[@]}"
  command -v convert >/dev/null || ensure_apt imagemagick
  local st=$TMP/deb share
  share=$st/share
  mkdir -p "$share/applications" "$share/metainfo" "$share/doc/$NAME" "$share/lintian/overrides"
  log "deb: go build -tags desktop,production,webkit2_41"
  CGO_ENABLED=1 "${GOBUILD[@]}" "${DESKTOP_FLAGS[@]}" \
    -ldflags "$LDFLAGS -extldflags=-Wl,-z,relro,-z,now" -o "$st/$NAME" .

  local s
  for s in 16 24 32 48 64 128 256 512; do
    mkdir -p "$share/icons/hicolor/${s}x$s/apps"
    convert build/appicon.png -resize "${s}x$s" -strip -define png:exclude-chunks=date,time \
      "PNG32:$share/icons/hicolor/${s}x$s/apps/$NAME.png"
  done
  cp build/linux/$NAME.desktop "$share/applications/"
  sed "s#<releases>#<releases>\n    <release version=\"$VERSION\" date=\"$DAY\"/>#" \
    build/linux/io.github.gemini_balance.desktop.metainfo.xml \
    >"$share/metainfo/io.github.gemini_balance.desktop.metainfo.xml"
  cp build/linux/copyright "$share/doc/$NAME/copyright"
  debian_changelog | gzip -n -9 >"$share/doc/$NAME/changelog.gz"
  mkdir -p "$share/man/man1"
  man_page "$st/$NAME" | gzip -n -9 >"$share/man/man1/$NAME.1.gz"
  grep -v '^#!' build/linux/lintian-overrides >"$share/lintian/overrides/$NAME"
  fix_times "$st"

  local out=$DIST/${NAME}_${VERSION}_amd64.deb
  log "deb: nfpm -> $(basename "$out")"
  GBD_ARCH=amd64 GBD_VERSION=$VERSION GBD_STAGE=$st \
    go run "$NFPM" package --config build/linux/nfpm.yaml --packager deb --target "$out" >/dev/null
}

build_headless() {
  local arch dir
  for arch in amd64 arm64; do
    dir=$TMP/$NAME-$VERSION-linux-$arch
    mkdir -p "$dir"
    log "headless: go build GOOS=linux GOARCH=$arch CGO_ENABLED=0"
    CGO_ENABLED=0 GOOS=linux GOARCH=$arch "${GOBUILD[@]}" -ldflags "$LDFLAGS" -o "$dir/$NAME" .
    sed "s/@VERSION@/$VERSION/g" build/linux/headless/README.md >"$dir/README.md"
    cp build/linux/headless/$NAME.service "$dir/"
    cp CHANGELOG.md "$dir/"
    tar_gz "$dir" "$DIST/$NAME-$VERSION-linux-$arch.tar.gz"
  done
}

build_windows() {
  command -v makensis >/dev/null || ensure_apt nsis
  command -v zip >/dev/null || ensure_apt zip
  # Icon, manifest and version information as a .syso object next to main.go (go-winres, the
  # library Wails itself uses); removed again on exit.
  local wr=$TMP/winres
  mkdir -p "$wr"
  cp build/windows/icon.ico "$wr/icon.ico"
  sed "s/{{.Info.ProductVersion}}.0/$VERSION4/" build/windows/wails.exe.manifest >"$wr/app.manifest"
  cat >"$wr/winres.json" <<EOF
{
  "RT_GROUP_ICON": {"APP": {"0000": "icon.ico"}},
  "RT_MANIFEST": {"#1": {"0409": "app.manifest"}},
  "RT_VERSION": {"#1": {"0000": {
    "fixed": {"file_version": "$VERSION4", "product_version": "$VERSION4"},
    "info": {"0409": {
      "Comments": "$COMMENTS",
      "CompanyName": "$COMPANY",
      "FileDescription": "$PRODUCT",
      "FileVersion": "$VERSION",
      "InternalName": "$NAME",
      "LegalCopyright": "$COPYRIGHT",
      "OriginalFilename": "$NAME.exe",
      "ProductName": "$PRODUCT",
      "ProductVersion": "$VERSION"
    }}
  }}}
}
EOF
  log "windows: go-winres -> $(basename "$SYSO")"
  (cd "$wr" && go run "$WINRES" make --in winres.json --arch amd64 --out rsrc)
  mv "$wr/rsrc_windows_amd64.syso" "$SYSO"

  local dir=$TMP/$NAME-$VERSION-windows-amd64
  mkdir -p "$dir"
  log "windows: go build GOOS=windows GOARCH=amd64 CGO_ENABLED=0 -tags desktop,production"
  CGO_ENABLED=0 GOOS=windows GOARCH=amd64 "${GOBUILD[@]}" -tags desktop,production \
    -ldflags "$LDFLAGS -H windowsgui" -o "$dir/$NAME.exe" .
  rm -f "$SYSO"
  # The console twin that shells run for `gemini-balance-desktop …` (.com before .exe).
  CGO_ENABLED=0 GOOS=windows GOARCH=amd64 "${GOBUILD[@]}" -ldflags "$LDFLAGS" \
    -o "$dir/$NAME.com" ./build/windows/cli
  sed -e "s/@VERSION@/$VERSION/g" -e 's/$/\r/' build/windows/README.txt >"$dir/README.txt"
  sed 's/$/\r/' CHANGELOG.md >"$dir/CHANGELOG.md"
  fix_times "$dir"

  log "windows: makensis -> $NAME-$VERSION-windows-amd64-setup.exe"
  makensis -V2 -INPUTCHARSET UTF8 \
    "-DVERSION=$VERSION" "-DVERSION4=$VERSION4" "-DPRODUCT=$PRODUCT" "-DCOMPANY=$COMPANY" \
    "-DCOPYRIGHT=$COPYRIGHT" "-DSRCDIR=$dir" "-DICON=$ROOT/build/windows/icon.ico" \
    "-DOUTFILE=$DIST/$NAME-$VERSION-windows-amd64-setup.exe" build/windows/installer.nsi
  zip_dir "$dir" "$DIST/$NAME-$VERSION-windows-amd64-portable.zip"
}

log "package $NAME $VERSION (commit $COMMIT, date $BUILD_DATE) -> $DIST: $TARGETS"
ensure_go
rm -rf "$DIST"
mkdir -p "$DIST"
if [ "${GBD_SKIP_FRONTEND:-}" != 1 ]; then
  ensure_node
  build_frontend
fi
for t in $TARGETS; do
  case $t in
    deb) build_deb ;;
    headless) build_headless ;;
    windows) build_windows ;;
    *) die "unknown target '$t' (deb, headless, windows)" ;;
  esac
done
(cd "$DIST" && find . -maxdepth 1 -type f ! -name SHA256SUMS -printf '%f\n' | sort | xargs sha256sum >SHA256SUMS)
log "wrote $DIST:"
(cd "$DIST" && ls -l --time-style=+ -- *) >&2
