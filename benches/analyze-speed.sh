#!/usr/bin/env bash
# Realtime factor of `lathe analyze` (loudness, LRA, true peak, checks) over
# every audio file in ANALYZE_DIR, using all cores. Without ANALYZE_DIR, a
# 20-minute synthesized album is rendered and measured. Real music reads best:
#   ANALYZE_DIR=~/music/album bash benches/analyze-speed.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --workspace --bins -q
dir=${ANALYZE_DIR:-}
if [ -z "$dir" ]; then
  dir=$(mktemp -d)
  trap 'rm -rf "$dir"' EXIT
  echo "rendering a 20-minute album into $dir ..."
  target/release/lathe-synth album "$dir" 10 120
fi
mapfile -t files < <(find "$dir" -maxdepth 1 -type f \( -iname '*.wav' -o -iname '*.flac' -o -iname '*.aif*' -o -iname '*.ogg' -o -iname '*.mp3' \) | sort)
audio_s=$(target/release/lathe analyze --json "${files[@]}" | python3 -c 'import json,sys; print(sum(f["duration_s"] for f in json.load(sys.stdin)["files"]))')
start=$(date +%s.%N)
target/release/lathe analyze "${files[@]}" > /dev/null
end=$(date +%s.%N)
python3 - "$audio_s" "$start" "$end" "${#files[@]}" <<'PY'
import sys
audio, start, end, n = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
wall = end - start
print(f"analyze: {n} files, {audio/60:.1f} min of audio in {wall:.2f} s = {audio/wall:.0f}x realtime (bar: 300x)")
PY
