#!/usr/bin/env bash
# The tonal match against Matchering 2.0 (pip `matchering`), side by side
# in one run on the same real premasters: a metal reference (Frets on Fire)
# and four tracks of other genres (Wesnoth, HyperRogue), from Debian's
# wesnoth-1.16-music, hyperrogue-music and fretsonfire-songs-sectoid.
# Prints each master's tonal distance to the reference (the independent
# measure, tests/fixtures/tonal_measure.py), its loudness and true peak
# (ffmpeg), and both tools' wall time (whole command, and Matchering's
# processing alone, without Python's start and imports). Matchering is
# installed into target/matchering-venv when Python cannot import it.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET_DIR=${CARGO_TARGET_DIR:-target}
LATHE=$TARGET_DIR/release/lathe
W=/usr/share/games/wesnoth/1.16/data/core/music
H=/usr/share/hyperrogue/music
F=/usr/share/games/fretsonfire/data/songs/sectoid
for d in "$W" "$H" "$F"; do
    [ -d "$d" ] || { echo "tonal-bench: needs $d (apt-get install wesnoth-1.16-music hyperrogue-music fretsonfire-songs-sectoid)"; exit 0; }
done
PY=python3
if ! $PY -c "import matchering" 2>/dev/null; then
    VENV=$TARGET_DIR/matchering-venv
    [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q matchering numpy
    PY=$VENV/bin/python
fi
cargo build --release --quiet --bin lathe
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

premaster() { # NAME SOURCE...: mixed, 44.1 kHz / 24-bit, peak at -4 dBFS
    local name=$1; shift
    local args=() s
    for s in "$@"; do args+=(-i "$s"); done
    ffmpeg -v error -y "${args[@]}" -filter_complex "amix=inputs=$#:normalize=0,aresample=44100" -c:a pcm_f32le "$WORK/raw.wav"
    local peak
    peak=$(ffmpeg -hide_banner -i "$WORK/raw.wav" -af astats=measure_perchannel=none -f null - 2>&1 | grep "Peak level dB" | tail -1 | awk '{print $NF}')
    ffmpeg -v error -y -i "$WORK/raw.wav" -af "volume=$(awk "BEGIN{print -4-($peak)}")dB" -c:a pcm_s24le "$WORK/$name.wav"
}
premaster reference "$F/War of freedom/song.ogg" "$F/War of freedom/guitar.ogg"
premaster orchestral "$W/battle-epic.ogg"
premaster ballad "$W/love_theme.ogg"
premaster electronic "$H/hr3-laboratory.ogg"
premaster hunting "$H/hr-domina-hunting.ogg"
TRACKS=(orchestral ballad electronic hunting)
FILES=()
for t in "${TRACKS[@]}"; do FILES+=("$WORK/$t.wav"); done

cat > "$WORK/album.yaml" <<YAML
version: 1
album: {title: Genres}
target: {preset: apple-music, mode: track}
chain: {match: {reference: reference.wav, max_db: ${MAX_DB:-12}}}
deliverables: [{name: wav, format: wav, bit_depth: 24}]
tracks:
$(for t in "${TRACKS[@]}"; do echo "  - {title: $t, mix: $t.wav}"; done)
YAML
cat > "$WORK/mg.py" <<'PY'
import sys, time
t0 = time.time()
import matchering as mg
t1 = time.time()
ref, out = sys.argv[1], sys.argv[2]
for t in sys.argv[3:]:
    name = t.rsplit("/", 1)[-1]
    mg.process(target=t, reference=ref, results=[mg.pcm24(f"{out}/{name}")])
print(f"{t1 - t0:.2f} {time.time() - t1:.2f}")
PY
now() { date +%s.%N; }
t0=$(now)
"$LATHE" master "$WORK/album.yaml" --out "$WORK/lathe" --quiet >/dev/null
t1=$(now)
mkdir -p "$WORK/mg"
read -r mg_import mg_process < <($PY "$WORK/mg.py" "$WORK/reference.wav" "$WORK/mg" "${FILES[@]}" 2>/dev/null | tail -1)
t2=$(now)

printf '%-11s %9s %9s %11s   %s\n' track premaster lathe matchering "loudness / true peak (lathe; matchering)"
i=0
for t in "${TRACKS[@]}"; do
    n=$(printf '%02d' $((i + 1)))
    d=$(python3 tests/fixtures/tonal_measure.py distances "$WORK/reference.wav" "$WORK/$t.wav" "$WORK/lathe/wav/$n - $t.wav" "$WORK/mg/$t.wav" \
        | python3 -c 'import json,sys; print(" ".join(f"{x:.2f}" for x in json.load(sys.stdin)["distances_db"]))')
    lm=$(ffmpeg -nostats -hide_banner -i "$WORK/lathe/wav/$n - $t.wav" -af ebur128=peak=true -f null - 2>&1 | awk '/I:/{i=$2} /Peak:/{p=$2} END{print i" LUFS "p" dBTP"}')
    mm=$(ffmpeg -nostats -hide_banner -i "$WORK/mg/$t.wav" -af ebur128=peak=true -f null - 2>&1 | awk '/I:/{i=$2} /Peak:/{p=$2} END{print i" LUFS "p" dBTP"}')
    read -r a b c <<<"$d"
    printf '%-11s %9s %9s %11s   %s; %s\n' "$t" "$a" "$b" "$c" "$lm" "$mm"
    i=$((i + 1))
done
awk -v l="$(echo "$t1 - $t0" | bc)" -v m="$(echo "$t2 - $t1" | bc)" -v p="$mg_process" 'BEGIN{
    printf "lathe %.2f s; matchering %.2f s (processing %.2f s): %.1fx faster (%.1fx against processing alone)\n", l, m, p, m/l, p/l }'
