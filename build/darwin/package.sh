#!/usr/bin/env bash
# Builds the macOS artifacts on a Mac (the release workflow's macOS runner; it cannot run on
# Linux: cgo with Apple's SDK):
#   bash build/darwin/package.sh VERSION [DIST]
# writes DIST (default build/dist):
#   gemini-balance-desktop-VERSION-macos-universal.dmg       the app, drag it to Applications
#   gemini-balance-desktop-VERSION-macos-universal.app.zip   the same .app, zipped
# The app is universal (amd64 + arm64, joined with lipo) and signed ad hoc (not notarized:
# Gatekeeper asks the first time, open it with right-click → Open).
# Needs: Go, Node.js (frontend), Xcode command line tools (clang, lipo, codesign, iconutil,
# sips, hdiutil).
set -euo pipefail
cd "$(dirname "$0")/../.."
VERSION=${1:?usage: build/darwin/package.sh VERSION [DIST]}
VERSION=${VERSION#v}
DIST=${2:-build/dist}
NAME=gemini-balance-desktop
PRODUCT="Gemini Balance Desktop"
COMMIT=$(git rev-parse --short=12 HEAD)
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}
export SOURCE_DATE_EPOCH
BUILD_DATE=$(date -u -r "$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS="-s -w -buildid= -X main.version=$VERSION -X main.commit=$COMMIT -X main.date=$BUILD_DATE"
export MACOSX_DEPLOYMENT_TARGET=12.0

if [ "${GBD_SKIP_FRONTEND:-}" != 1 ]; then
  (cd frontend && npm ci --no-audit --no-fund && npm run build)
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$DIST"

for arch in amd64 arm64; do
  CGO_ENABLED=1 GOOS=darwin GOARCH=$arch go build -trimpath -buildvcs=false \
    -tags desktop,production -ldflags "$LDFLAGS" -o "$tmp/$NAME-$arch" .
done

app="$tmp/dmg/$PRODUCT.app"
mkdir -p "$app/Contents/MacOS" "$app/Contents/Resources"
lipo -create -output "$app/Contents/MacOS/$NAME" "$tmp/$NAME-amd64" "$tmp/$NAME-arm64"
lipo -info "$app/Contents/MacOS/$NAME"

# Info.plist is Wails' template: fill its fields; drop its optional blocks (file associations,
# URL schemes: none), which run from the first {{if to the closing </dict>.
sed -e "s/{{.Info.ProductName}}/$PRODUCT/g" -e "s/{{.OutputFilename}}/$NAME/g" \
  -e "s/{{.Info.ProductVersion}}/$VERSION/g" \
  -e "s/{{.Info.Comments}}/A local Gemini API proxy that balances requests over a pool of API keys./g" \
  -e "s/{{.Info.Copyright}}/Gemini Balance Desktop contributors/g" \
  -e '/{{if /,/^    <\/dict>/{/^    <\/dict>/!d;}' build/darwin/Info.plist >"$app/Contents/Info.plist"
! grep -n '{{' "$app/Contents/Info.plist"
plutil -lint "$app/Contents/Info.plist"

iconset=$tmp/iconfile.iconset
mkdir -p "$iconset"
for s in 16 32 128 256 512; do
  sips -z "$s" "$s" build/appicon.png --out "$iconset/icon_${s}x${s}.png" >/dev/null
  sips -z $((s * 2)) $((s * 2)) build/appicon.png --out "$iconset/icon_${s}x${s}@2x.png" >/dev/null
done
iconutil -c icns -o "$app/Contents/Resources/iconfile.icns" "$iconset"

codesign --force --deep --sign - "$app"
codesign --verify --verbose "$app"
"$app/Contents/MacOS/$NAME" version

ln -s /Applications "$tmp/dmg/Applications"
hdiutil create -volname "$PRODUCT $VERSION" -srcfolder "$tmp/dmg" -ov -format UDZO \
  "$DIST/$NAME-$VERSION-macos-universal.dmg"
(cd "$tmp/dmg" && ditto -c -k --keepParent "$PRODUCT.app" "$tmp/app.zip")
mv "$tmp/app.zip" "$DIST/$NAME-$VERSION-macos-universal.app.zip"
ls -l "$DIST"
