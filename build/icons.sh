#!/usr/bin/env bash
# Regenerates the app and tray icons with ImageMagick (6 or 7). The results are committed;
# this script is only needed when the design changes.
#   build/appicon.png            1024x1024 app icon (Wails derives the platform icons from it)
#   build/windows/icon.ico       multi-size Windows icon
#   app/tray/icon.png, icon.ico  tray icons embedded by app/tray
set -euo pipefail
cd "$(dirname "$0")/.."
command -v convert >/dev/null || { echo "icons.sh: ImageMagick 'convert' is required" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Rounded square with a blue→violet gradient (Gemini colours).
convert -size 1024x1024 xc: -sparse-color barycentric '0,0 #4f8cff 1023,1023 #9b5cf6' "$tmp/grad.png"
convert -size 1024x1024 xc:none -fill white -draw 'roundrectangle 64,64 960,960 200,200' "$tmp/mask.png"
convert "$tmp/grad.png" "$tmp/mask.png" -alpha off -compose CopyOpacity -composite "$tmp/bg.png"

# White "G" with a balance beam under it and a four-pointed Gemini sparkle.
convert "$tmp/bg.png" \
  -font DejaVu-Sans-Bold -pointsize 560 -fill white -gravity center -annotate +0-60 'G' \
  -stroke white -strokewidth 34 -draw 'line 232,780 792,780' \
  -stroke none -draw 'circle 232,780 232,820' -draw 'circle 792,780 792,820' \
  -draw 'polygon 512,790 572,880 452,880' \
  -fill '#fff6c2' -draw 'path "M 800,150 Q 812,238 900,250 Q 812,262 800,350 Q 788,262 700,250 Q 788,238 800,150 Z"' \
  build/appicon.png

mkdir -p build/windows app/tray
convert build/appicon.png -define icon:auto-resize=256,128,64,48,32,16 build/windows/icon.ico
convert build/appicon.png -resize 64x64 app/tray/icon.png
convert build/appicon.png -define icon:auto-resize=32,16 app/tray/icon.ico
echo "icons written"
