#!/usr/bin/env bash
# c/tests/fuzz/run.sh — builds and runs the libFuzzer targets (called by `./dev fuzz`).
#
#   run.sh [fuzz] [--seconds N] [--target NAME]   fuzz each target for N/targets seconds
#   run.sh replay [--target NAME]                   run every committed input once
#
# What it proves: the targets (api_fuzz.c: the data API against a reference model;
# config_fuzz.c: the argument surface; pcodec_fuzz.c: the page codec on untrusted blobs and
# arbitrary pages; wal_fuzz.c, segfile_fuzz.c, manifest_fuzz.c: the file decoders of durable
# logs, on arbitrary bytes and on damaged valid files; dmanifest_fuzz.c: the engine's manifest
# payload decoder, on arbitrary bytes, built manifests and failing allocations) find no crash,
# sanitizer report, leak, timeout or model mismatch. Built with clang
# -fsanitize=fuzzer,address,undefined (-fno-sanitize-recover=all) over the engine sources
# listed in build.zig (parsed, never duplicated).
#
# fuzz: starts from the committed seeds (corpus/<target>/) and regressions
# (regressions/<target>/) plus the working corpus kept in .zig-cache/fuzz/corpus/<target>
# (git-ignored, grows across runs); reports executions, coverage (libFuzzer's cov: edges and
# ft: features) and crashes; a crashing input is saved as .zig-cache/fuzz/artifacts/<target>-*.
# Once a crash is understood, copy the input to regressions/<target>/ so replay keeps it.
# replay: each committed input is one test, run once without mutation (deterministic, fast).
# Both print "# fuzz: N passed, M failed" / "# fuzz-replay: N passed, M failed" and exit
# non-zero on any failure. Env: FUZZ_CC (compiler), FUZZ_JOBS (parallel compiles).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
cd "$root"
out="$root/.zig-cache/fuzz"
jobs="${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}"
all_targets=(api_fuzz config_fuzz pcodec_fuzz wal_fuzz segfile_fuzz manifest_fuzz dmanifest_fuzz)
# Test sources (no main) linked into every target: the simulated file system of the disk
# targets.
shared_sources=(c/tests/simfs.c)

mode=fuzz
seconds=60
targets=()
while [ $# -gt 0 ]; do
    case "$1" in
    fuzz | replay) mode="$1" ;;
    --seconds) seconds="$2"; shift ;;
    --minutes) seconds=$(($2 * 60)); shift ;;
    --target) targets+=("$2"); shift ;;
    -h | --help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "fuzz: unknown argument '$1'" >&2; exit 2 ;;
    esac
    shift
done
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")

# ---- toolchain --------------------------------------------------------------------------

have_libfuzzer() { # can $cc link a libFuzzer binary?
    local probe="$out/probe"
    mkdir -p "$out"
    printf '%s\n' '#include <stdint.h>' '#include <stddef.h>' \
        'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }' \
        >"$probe.c"
    "$cc" -fsanitize=fuzzer,address,undefined "$probe.c" -o "$probe" >/dev/null 2>&1
}

apt_install() {
    [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 || return 1
    echo "fuzz: installing $* (apt-get)" >&2
    (apt-get update -qq && apt-get install -y -qq "$@") >&2
}

pick_cc() {
    cc="${FUZZ_CC:-clang}"
    if ! command -v "$cc" >/dev/null 2>&1; then apt_install clang || true; fi
    command -v "$cc" >/dev/null 2>&1 || { echo "fuzz: clang not found" >&2; exit 2; }
    if ! have_libfuzzer; then
        local v
        v="$("$cc" --version | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -1)"
        apt_install "libclang-rt-$v-dev" || apt_install libclang-rt-dev || true
        have_libfuzzer || { echo "fuzz: $cc cannot link libFuzzer" >&2; exit 2; }
    fi
}

# Prints the quoted strings of `const engine_sources = [_][]const u8{ ... };` in build.zig.
engine_sources() {
    awk '$0 ~ "const engine_sources = " { inside = 1; next }
         inside && /^};/ { exit }
         inside { while (match($0, /"[^"]+"/)) { print substr($0, RSTART + 1, RLENGTH - 2);
                  $0 = substr($0, RSTART + RLENGTH) } }' build.zig
}

flags=(-std=c17 -D_GNU_SOURCE -Ic/include -Ic/src -g -O1 -fno-omit-frame-pointer
    -Wall -Wextra -Werror -fno-sanitize-recover=all)

compile_one() { # src objdir cc flags...
    local src="$1" dir="$2"
    shift 2
    "$@" -c "$src" -o "$dir/$(echo "$src" | tr '/' '_').o"
}
export -f compile_one

# Builds every target unless the binaries are newer than every C source and build.zig.
build_all() {
    local bin_dir="$out/bin" obj="$out/obj" srcs t stale=0
    mkdir -p "$bin_dir" "$obj"
    for t in "${targets[@]}"; do
        if [ ! -x "$bin_dir/$t" ] ||
            [ -n "$(find c build.zig -newer "$bin_dir/$t" -name '*.[ch]' -o -newer \
                "$bin_dir/$t" -name build.zig | head -1)" ]; then stale=1; fi
    done
    [ $stale -eq 1 ] || return 0
    mapfile -t srcs < <(engine_sources)
    [ ${#srcs[@]} -gt 0 ] || { echo "fuzz: no engine_sources in build.zig" >&2; exit 2; }
    echo "fuzz: building ${targets[*]} with $cc ($($cc --version | head -1))"
    rm -f "$obj"/*.o
    printf '%s\n' "${srcs[@]}" | xargs -P "$jobs" -I{} bash -c 'compile_one "$@"' _ {} "$obj" \
        "$cc" "${flags[@]}" -fsanitize=fuzzer-no-link,address,undefined
    printf '%s\n' "${shared_sources[@]}" | xargs -P "$jobs" -I{} bash -c 'compile_one "$@"' _ {} \
        "$obj" "$cc" "${flags[@]}" -fsanitize=fuzzer-no-link,address,undefined
    local objs=()
    for t in "${srcs[@]}" "${shared_sources[@]}"; do
        objs+=("$obj/$(echo "$t" | tr '/' '_').o")
    done
    for t in "${targets[@]}"; do
        "$cc" "${flags[@]}" -fsanitize=fuzzer,address,undefined "c/tests/fuzz/$t.c" \
            "${objs[@]}" -o "$bin_dir/$t" -lpthread -lm
    done
}

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

# ---- replay -----------------------------------------------------------------------------

replay() {
    local passed=0 failed=0 t f log="$out/replay.log"
    : >"$log"
    for t in "${targets[@]}"; do
        for f in "$here/corpus/$t"/* "$here/regressions/$t"/*; do
            [ -f "$f" ] || continue
            case "$f" in *.md | *.txt) continue ;; esac
            if "$out/bin/$t" -runs=1 "$f" >>"$log" 2>&1; then
                passed=$((passed + 1))
            else
                failed=$((failed + 1))
                echo "FAIL  $t ${f#"$root"/} (log: $log)"
            fi
        done
    done
    echo "# fuzz-replay: $passed passed, $failed failed"
    [ $failed -eq 0 ]
}

# ---- fuzz -------------------------------------------------------------------------------

fuzz_one() { # target seconds -> prints one report line; returns 1 on a crash
    local t="$1" secs="$2" work="$out/corpus/$1" log="$out/$1.log" art="$out/artifacts"
    local seeds=() rc=0 stats execs cov ft crashes
    mkdir -p "$work" "$art"
    for d in "$here/corpus/$t" "$here/regressions/$t"; do [ -d "$d" ] && seeds+=("$d"); done
    local before
    before=$(find "$art" -name "$t-*" 2>/dev/null | wc -l)
    "$out/bin/$t" -max_total_time="$secs" -print_final_stats=1 -timeout=20 \
        -rss_limit_mb=2048 -max_len=4096 -artifact_prefix="$art/$t-" \
        "$work" "${seeds[@]}" >"$log" 2>&1 || rc=$?
    stats=$(grep -E '^#[0-9]+' "$log" | grep -E 'cov: ' | tail -1 || true)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    cov=$(echo "$stats" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
    ft=$(echo "$stats" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
    crashes=$(($(find "$art" -name "$t-*" 2>/dev/null | wc -l) - before))
    printf 'fuzz: %-12s %s execs in %s s (%s/s), cov %s ft %s, corpus %s, crashes %s\n' \
        "$t" "${execs:-?}" "$secs" "$(( ${execs:-0} / (secs > 0 ? secs : 1) ))" "${cov:-?}" \
        "${ft:-?}" "$(find "$work" -type f | wc -l)" "$crashes"
    if [ $rc -ne 0 ] || [ "$crashes" -gt 0 ]; then
        echo "---- $t: exit $rc; log $log (last 30 lines) ----"
        tail -30 "$log"
        if [ "$crashes" -gt 0 ]; then
            ls -t "$art/$t"-* | head -n "$crashes" | sed 's/^/  artifact: /'
        fi
        return 1
    fi
}

pick_cc
build_all
if [ "$mode" = replay ]; then
    replay
    exit $?
fi
per=$((seconds / ${#targets[@]}))
[ $per -ge 1 ] || per=1
passed=0
failed=0
for t in "${targets[@]}"; do
    if fuzz_one "$t" "$per"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
done
echo "# fuzz: $passed passed, $failed failed"
[ $failed -eq 0 ]
