#!/usr/bin/env bash
# Peak memory of `lathe master` against track length and against track count
# (one job, the default chain, a 24-bit master at the premaster's rate).
#
#   length: 10 min, 60 min and 3 h premasters (24-bit FLAC) at 48 and 96 kHz,
#           made by looping a synthesized song with ffmpeg;
#   count:  albums of 20 and 200 ten-second tracks.
#
# A case whose memory, projected from the shorter one at the same rate, would
# not fit in 80% of the available memory is skipped and says so, rather than
# pushing the machine into swap. Needs ffmpeg and GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v ffmpeg >/dev/null || { echo "memory bench: needs ffmpeg"; exit 1; }
[ -x /usr/bin/time ] || { echo "memory bench: needs GNU time (apt-get install time)"; exit 1; }
cargo build --release --workspace --bins -q
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

. benches/peak-rss.sh

# Peak RSS in MiB of mastering $1 (an album.yaml), and the wall time.
peak() {
    peak_rss target/release/lathe master "$1" --out "$dir/out" --quiet --jobs 1 || return 1
    rm -rf "$dir/out"
}

# One song to loop: a minute of the synthesized sample album's first track.
target/release/lathe-synth album "$dir/seed" 1 60 >/dev/null
avail_mib=$(awk '/MemAvailable/ {print int($2 / 1024)}' /proc/meminfo)
printf '%-24s %10s %10s\n' "case" "peak MiB" "wall"
for rate in 48000 96000; do
    prev_min=0 prev_mib=0
    for minutes in 10 60 180; do
        name="${minutes} min at $((rate / 1000)) kHz"
        if [ "$prev_min" -gt 0 ]; then
            need=$((prev_mib * minutes / prev_min))
            if [ "$need" -gt $((avail_mib * 8 / 10)) ]; then
                printf '%-24s %10s   skipped: would need about %d MiB of %d available\n' "$name" "-" "$need" "$avail_mib"
                continue
            fi
        fi
        ffmpeg -v error -y -stream_loop -1 -i "$dir/seed/01.wav" -t $((minutes * 60)) -ar "$rate" \
            -c:a flac -sample_fmt s32 -bits_per_raw_sample 24 "$dir/long.flac"
        printf 'version: 1\nalbum: {title: Long}\ndeliverables: [{name: m, sample_rate: source, bit_depth: 24}]\ntracks: [{title: Long, mix: long.flac}]\n' >"$dir/album.yaml"
        read -r mib wall < <(peak "$dir/album.yaml")
        printf '%-24s %10s %10s\n' "$name" "$mib" "$wall"
        prev_min=$minutes prev_mib=$mib
        rm -f "$dir/long.flac"
    done
done
for tracks in 20 200; do
    rm -rf "$dir/album"
    target/release/lathe-synth album "$dir/album" "$tracks" 10 >/dev/null
    read -r mib wall < <(peak "$dir/album/album.yaml")
    printf '%-24s %10s %10s\n' "$tracks tracks x 10 s" "$mib" "$wall"
done
