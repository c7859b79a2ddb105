#!/usr/bin/env python3
"""Whole-album benchmark: `lathe master` on an album, its realtime factor,
wall time and peak RSS; the same album through ffmpeg-normalize (EBU two-pass
loudnorm) when it is installed, with the ratio; and peak RSS against album
length and job count.

    python3 benches/album-bench.py                 # a synthesized 25-minute album
    ALBUM=path/to/album.yaml python3 benches/album-bench.py   # your own music
    HIRES=1 python3 benches/album-bench.py         # real music at 96 and 88.2 kHz

HIRES=1 builds a hi-res album from Debian's wesnoth-1.16-music (apt-get
install wesnoth-1.16-music): ten of its pieces resampled by ffmpeg to 96 and
88.2 kHz in turn, 24-bit FLAC and WAV in turn, 4 dB down (peaks under 0 dBFS).

Beside lathe, the same files are decoded by ffmpeg to nothing, two at a time:
the decode floor, what reading the premasters alone costs.

The synthesized album is deterministic (lathe-synth): 10 tracks of 150 s in
WAV 24-bit / 16-bit / float at 44.1 and 48 kHz; with ffmpeg installed, every
fourth track is re-encoded to FLAC and every fourth (offset by one) to AIFF.
"""
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LATHE = os.path.join(ROOT, "target/release/lathe")
SYNTH = os.path.join(ROOT, "target/release/lathe-synth")
JOBS = os.environ.get("JOBS", "2")


def measure(cmd):
    """Runs cmd in a child of a fresh interpreter: (wall seconds, peak RSS MiB of its largest process)."""
    out = subprocess.run([sys.executable, __file__, "--measure", *cmd], check=True, capture_output=True, text=True)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    return r["wall"], r["rss_kb"] / 1024


def measure_self(cmd):
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({"wall": wall, "rss_kb": rss}))


def synth_album(d, tracks, seconds):
    subprocess.run([SYNTH, "album", d, str(tracks), str(seconds)], check=True, stdout=subprocess.DEVNULL)
    manifest = os.path.join(d, "album.yaml")
    if shutil.which("ffmpeg") is None:
        return manifest
    text = open(manifest).read()
    for i in range(tracks):
        ext = {2: "flac", 3: "aiff"}.get(i % 4)
        if ext is None:
            continue
        wav = f"{i + 1:02}.wav"
        other = f"{i + 1:02}.{ext}"
        codec = ["-c:a", "flac"] if ext == "flac" else ["-c:a", "pcm_s24be" if i % 8 == 3 else "pcm_s16be"]
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", os.path.join(d, wav), *codec,
                        "-map_metadata", "-1", "-fflags", "+bitexact", os.path.join(d, other)], check=True)
        os.remove(os.path.join(d, wav))
        text = text.replace(f"mix: {wav}", f"mix: {other}")
    open(manifest, "w").write(text)
    return manifest


MUSIC = "/usr/share/games/wesnoth/1.16/data/core/music"
HIRES_PIECES = ["battle-epic", "breaking_the_chains", "casualties_of_war", "elvish-theme", "frantic",
                "heroes_rite", "knolls", "legends_of_the_north", "northerners", "the_city_falls"]


def hires_album(d):
    """Ten real pieces at 96 and 88.2 kHz, 24-bit FLAC and WAV: the manifest."""
    if not os.path.isdir(MUSIC) or shutil.which("ffmpeg") is None:
        sys.exit("HIRES=1 needs ffmpeg and wesnoth-1.16-music (apt-get install ffmpeg wesnoth-1.16-music)")
    os.makedirs(d, exist_ok=True)
    lines = ["version: 1", "album: {title: Hi-res}", "target: {mode: track, loudness_lufs: -14, true_peak_dbtp: -1}",
             "deliverables: [{name: master, sample_rate: 44100, bit_depth: 24}]", "tracks:"]
    for i, piece in enumerate(HIRES_PIECES):
        rate = 96000 if i % 2 == 0 else 88200
        name = f"{i + 1:02}-{piece}.{'flac' if i % 2 == 0 else 'wav'}"
        codec = ["-c:a", "flac", "-sample_fmt", "s32", "-bits_per_raw_sample", "24"] if name.endswith("flac") \
            else ["-c:a", "pcm_s24le"]
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", os.path.join(MUSIC, piece + ".ogg"), "-ar", str(rate),
                        "-af", "volume=-4dB", *codec, "-map_metadata", "-1", os.path.join(d, name)], check=True)
        lines.append(f"  - {{title: {piece}, mix: {name}}}")
    manifest = os.path.join(d, "album.yaml")
    open(manifest, "w").write("\n".join(lines) + "\n")
    return manifest


def decode_floor(files):
    """Wall seconds for ffmpeg to decode every file to nothing, two at a time."""
    from concurrent.futures import ThreadPoolExecutor
    start = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda f: subprocess.run(["ffmpeg", "-v", "error", "-i", f, "-f", "null", "-"], check=True),
                      files))
    return time.perf_counter() - start


def inputs(manifest):
    root = os.path.dirname(os.path.abspath(manifest))
    return [os.path.join(root, m) for m in re.findall(r"mix:\s*([^\s,}]+)", open(manifest).read())]


def master(manifest, out, jobs=JOBS):
    shutil.rmtree(out, ignore_errors=True)
    wall, rss = measure([LATHE, "master", manifest, "--out", out, "--quiet", "--jobs", jobs])
    report = json.load(open(os.path.join(out, "report.json")))
    audio = sum(t["premaster"]["duration_s"] for t in report["tracks"])
    return wall, rss, audio, report


def main():
    subprocess.run(["cargo", "build", "--release", "--workspace", "--bins", "-q"], cwd=ROOT, check=True)
    tmp = tempfile.mkdtemp(prefix="lathe-bench-")
    try:
        if os.environ.get("HIRES"):
            manifest = hires_album(os.path.join(tmp, "hires"))
        else:
            manifest = os.environ.get("ALBUM") or synth_album(os.path.join(tmp, "album"), 10, 150)
        files = inputs(manifest)
        exts = sorted({os.path.splitext(f)[1] for f in files})
        wall, rss, audio, report = master(manifest, os.path.join(tmp, "lathe-out"))
        worst = max(abs(t["master"]["integrated_lufs"] - t["master"]["target_lufs"]) for t in report["tracks"])
        print(f"album: {len(files)} tracks, {audio / 60:.1f} min, {' '.join(exts)}")
        print(f"lathe master (--jobs {JOBS}): {wall:.2f} s = {audio / wall:.0f}x realtime, peak RSS {rss:.0f} MiB "
              f"(album {report['album']['integrated_lufs']:.2f} LUFS, worst track off target {worst:.3f} LU, "
              f"highest true peak {report['album']['true_peak_dbtp']:.2f} dBTP)")
        if shutil.which("ffmpeg"):
            floor = decode_floor(files)
            print(f"decode floor (ffmpeg to null, two at a time): {floor:.2f} s = {audio / floor:.0f}x realtime; "
                  f"lathe takes {wall / floor:.1f}x the floor (bar: 3x)")
        if shutil.which("ffmpeg-normalize"):
            out = os.path.join(tmp, "ffn-out")
            os.makedirs(out)
            fwall, frss = measure(["ffmpeg-normalize", *files, "-nt", "ebu", "-t", "-14", "-tp", "-1",
                                   "-ar", "44100", "-c:a", "pcm_s24le", "-ext", "wav", "-of", out, "-f", "-q"])
            print(f"ffmpeg-normalize: {fwall:.2f} s = {audio / fwall:.0f}x realtime, peak RSS {frss:.0f} MiB")
            print(f"lathe is {fwall / wall:.1f}x faster than ffmpeg-normalize (bar: 15x)")
        else:
            print("ffmpeg-normalize not installed (pip install ffmpeg-normalize, with ffmpeg): comparison skipped")

        # Peak RSS follows jobs x longest track, not album length.
        d = os.path.join(tmp, "scaling")
        long_manifest = synth_album(d, 20, 120)
        text = open(long_manifest).read()
        head, tracks = text.split("tracks:\n")
        short_manifest = os.path.join(d, "five.yaml")
        open(short_manifest, "w").write(head + "tracks:\n" + "".join(tracks.splitlines(True)[:5]))
        print("peak RSS against album length and jobs (tracks of 120 s):")
        for name, m, jobs in [("5 tracks", short_manifest, "2"), ("20 tracks", long_manifest, "2"),
                              ("20 tracks", long_manifest, "1")]:
            w, r, a, _ = master(m, os.path.join(d, "out"), jobs)
            print(f"  {name:>9}, --jobs {jobs}: {a / 60:5.1f} min, {w:5.2f} s, peak RSS {r:4.0f} MiB")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--measure":
        measure_self(sys.argv[2:])
    else:
        main()
