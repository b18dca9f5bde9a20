#!/usr/bin/env bash
# Prints the CHANGELOG.md section of one version, which becomes that release's notes:
#   bash build/release-notes.sh VERSION [CHANGELOG]
# VERSION may carry a leading "v" (a tag name); "Unreleased" prints the unreleased section.
# Exits 1 when the changelog has no section, or an empty one, for that version.
set -euo pipefail
version=${1:?usage: release-notes.sh VERSION [CHANGELOG]}
version=${version#v}
file=${2:-$(dirname "$0")/../CHANGELOG.md}
awk -v v="$version" '
  /^## / {
    if (found) exit
    h = $0
    sub(/^## +/, "", h)
    sub(/^\[/, "", h)
    sub(/\].*$/, "", h)
    sub(/ .*$/, "", h)
    if (tolower(h) == tolower(v)) { found = 1; next }
  }
  /^\[[^]]+\]: / { if (found) exit }
  found { lines[++n] = $0 }
  END {
    while (n > 0 && lines[n] ~ /^[[:space:]]*$/) n--
    s = 1
    while (s <= n && lines[s] ~ /^[[:space:]]*$/) s++
    if (!found || s > n) {
      printf "release-notes.sh: no section for version %s in %s\n", v, FILENAME > "/dev/stderr"
      exit 1
    }
    for (i = s; i <= n; i++) print lines[i]
  }
' "$file"
