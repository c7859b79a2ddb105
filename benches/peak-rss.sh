# Sourced by the memory benches: `peak_rss CMD...` runs CMD under GNU time
# and prints its peak RSS in MiB and its wall time; CMD's stdout and stderr
# go to $PEAK_LOG (default /dev/null). Fails when CMD fails.
peak_rss() {
    local t
    t=$(mktemp)
    if ! /usr/bin/time -v "$@" >"${PEAK_LOG:-/dev/null}" 2>"$t"; then
        tail -3 "$t" >&2
        rm -f "$t"
        return 1
    fi
    local kb wall
    kb=$(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$t")
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$t")
    rm -f "$t"
    echo "$((kb / 1024)) $wall"
}
