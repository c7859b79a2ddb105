#!/usr/bin/env bash
# Peak RSS of the whole lathe process mastering one track of 16 stems × 8 min
# at 48 kHz (issue bar: ≤ 1 GiB). Prints the figure; exits 1 over the bar.
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${COUNT:-16}
SECONDS_LONG=${SECONDS_LONG:-480}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cargo build --release --bins -q
echo "rendering $COUNT stems x ${SECONDS_LONG} s at 48 kHz into $dir ..."
target/release/lathe-synth stems "$dir" "$COUNT" "$SECONDS_LONG"
/usr/bin/time -v target/release/lathe master "$dir/album.yaml" --quiet --jobs 2 >"$dir/out.txt" 2>"$dir/time.txt"
kb=$(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$dir/time.txt")
wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$dir/time.txt")
mib=$((kb / 1024))
audio=$(( SECONDS_LONG ))
echo "stems: $COUNT x ${SECONDS_LONG} s at 48 kHz; wall ${wall}; peak RSS ${mib} MiB (bar: 1024 MiB)"
[ "$mib" -le 1024 ]
