# lathe: quick start is `make demo` then `make test`.
CARGO ?= cargo
SAMPLE := sample_album
# Cargo's target folder: CARGO_TARGET_DIR when it is set, as cargo does.
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
LATHE := $(TARGET_DIR)/release/lathe
SYNTH := $(TARGET_DIR)/release/lathe-synth

.PHONY: build demo test bench fuzz fmt clippy clean sample-audio man

build:
	$(CARGO) build --release --workspace --bins
	@mkdir -p $(TARGET_DIR)/man
	$(LATHE) manpage > $(TARGET_DIR)/man/lathe.1

# The man page alone (`man -l target/man/lathe.1`).
man: build

# Renders the sample album's audio (deterministic, not committed) once.
$(SAMPLE)/mixes/01-night-drive.wav: crates/lathe-synth/src/lib.rs crates/lathe-synth/src/main.rs | build
	$(SYNTH) sample-album $(SAMPLE)

sample-audio: build $(SAMPLE)/mixes/01-night-drive.wav

demo: sample-audio
	@echo "== lathe master $(SAMPLE)/album.yaml"
	$(LATHE) master $(SAMPLE)/album.yaml
	@echo
	@echo "Masters are in $(SAMPLE)/masters/<deliverable>/; the report is $(SAMPLE)/masters/report.html (also report.md, report.json)"

test:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --release -- -D warnings
	$(CARGO) test --release --workspace

# Criterion benches per DSP stage and the whole chain; the whole-album
# benchmark (realtime factor, peak RSS, side by side with ffmpeg-normalize when
# installed and the decode floor; ALBUM=path/to/album.yaml for your own music),
# and on a real hi-res album when Debian's wesnoth-1.16-music is installed; the realtime factor
# of `lathe analyze` (ANALYZE_DIR=...); peak memory of a 16-stem x 8 min track,
# and against track length (10 min to 3 h, 48 and 96 kHz) and count (20, 200)
# (needs GNU time: apt-get install time); the tonal match against Matchering
# on real music (Debian's game music packages; pip matchering into target/).
bench:
	$(CARGO) bench
	python3 benches/album-bench.py
	if [ -d /usr/share/games/wesnoth/1.16/data/core/music ]; then HIRES=1 python3 benches/album-bench.py; fi
	bash benches/analyze-speed.sh
	bash benches/stems-memory.sh
	bash benches/memory.sh
	bash benches/tonal-bench.sh

# Ten minutes on each fuzz target (cargo install cargo-fuzz; libFuzzer's flags
# need RUSTC_BOOTSTRAP on a stable toolchain). Crashes land in fuzz/artifacts/.
FUZZ_SECONDS ?= 600
fuzz:
	cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run -O manifest -- -max_total_time=$(FUZZ_SECONDS)
	cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run -O decode_analyze -- -max_total_time=$(FUZZ_SECONDS) -max_len=65536

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
	rm -rf $(SAMPLE)/mixes $(SAMPLE)/stems $(SAMPLE)/masters
