#!/bin/sh
# make size: the stripped static library of one port (arguments: port name,
# build dir, strip command). Debug info and local symbols go; what is left
# is what a firmware image links from.
set -eu
port=$1 build=$2 strip=$3
lib=$build/libedgetune.a
[ -f "$lib" ] || { echo "$port: $lib missing"; exit 1; }
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
"$strip" --strip-unneeded -o "$tmp" "$lib"
printf '%-15s %-38s %9d bytes stripped (%d unstripped)\n' "$port" "$lib" "$(wc -c < "$tmp")" "$(wc -c < "$lib")"
