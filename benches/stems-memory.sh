#!/usr/bin/env bash
# Peak RSS of the whole lathe process mastering one track of 16 stems × 8 min
# at 48 kHz (issue bar: ≤ 1 GiB). Prints the figure; exits 1 over the bar.
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${COUNT:-16}
SECONDS_LONG=${SECONDS_LONG:-480}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cargo build --release --workspace --bins -q
echo "rendering $COUNT stems x ${SECONDS_LONG} s at 48 kHz into $dir ..."
target/release/lathe-synth stems "$dir" "$COUNT" "$SECONDS_LONG"
. benches/peak-rss.sh
read -r mib wall < <(PEAK_LOG="$dir/out.txt" peak_rss target/release/lathe master "$dir/album.yaml" --quiet --jobs 2)
echo "stems: $COUNT x ${SECONDS_LONG} s at 48 kHz; wall ${wall}; peak RSS ${mib} MiB (bar: 1024 MiB)"
[ "$mib" -le 1024 ]
