#!/usr/bin/env bash
# Makes a 64-bit wine prefix in which Go programs built for Windows run (tests only):
#   build/wine/prefix.sh DIR
# then run programs with   WINEPREFIX=DIR WINEDEBUG=-all wine PROGRAM.exe ...
#
# Debian 12's wine 8 lacks bcryptprimitives.dll, which Go ≥ 1.24 loads at start
# (ProcessPrng): without it every Go program dies at once. This script builds the stand-in
# from dll/bcryptprimitives.c (it forwards to RtlGenRandom) with x86_64-w64-mingw32-gcc and puts it
# in the prefix's system32. It also skips wine's Mono and Gecko installers (they would ask
# through a dialog), so it runs without a display. `wineboot -i` takes ~10 s on 2 cores; a
# prefix made before (same DLL source) is reused as it is.
#
# Needs: wine, wine64, gcc-mingw-w64-x86-64 (build/deps.sh WINE_APT). Used by the wine lane of
# build/test.sh; the installer smoke test can use it the same way.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
prefix=$(cd "$1" && pwd)
export WINEPREFIX=$prefix WINEDEBUG=-all WINEARCH=win64 WINEDLLOVERRIDES="mscoree,mshtml="
sys32=$prefix/drive_c/windows/system32
stamp=$prefix/.gbd-prefix
want=$(cat "$here/dll/bcryptprimitives.c" "$here/dll/bcryptprimitives.def" | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -f "$sys32/bcryptprimitives.dll" ]; then
  exit 0
fi
for tool in wine wineserver x86_64-w64-mingw32-gcc; do
  command -v "$tool" >/dev/null || { echo "$0: $tool is not installed (apt-get install wine wine64 gcc-mingw-w64-x86-64)" >&2; exit 1; }
done
start=$(date +%s)
if [ ! -f "$sys32/kernel32.dll" ]; then
  # wine64 alone (no wine32) prints a note about syswow64 here; it does no harm.
  wine wineboot -i >/dev/null 2>&1 || true
  wineserver -w
fi
[ -f "$sys32/kernel32.dll" ] || { echo "$0: wineboot did not create $prefix" >&2; exit 1; }
x86_64-w64-mingw32-gcc -shared -O2 -s -nostdlib -Wl,--entry,DllMain \
  -o "$sys32/bcryptprimitives.dll" "$here/dll/bcryptprimitives.c" "$here/dll/bcryptprimitives.def" \
  -lkernel32 -ladvapi32
printf '%s\n' "$want" >"$stamp"
echo "wine prefix ready in $prefix ($(($(date +%s) - start)) s)" >&2
