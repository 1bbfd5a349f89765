#!/usr/bin/env bash
# c/tests/sanitize.sh — the C tests under sanitizers (called by `./dev sanitize`).
#
# What it proves: every C test (build.zig `test_sources`) linked with the whole engine
# (build.zig `engine_sources`) and the shared test model (build.zig `shared_test_sources`)
# runs clean under AddressSanitizer + UndefinedBehaviorSanitizer
# (LeakSanitizer on, every finding fatal: -fno-sanitize-recover=all) and under
# ThreadSanitizer (the tests run background maintenance threads, concurrent readers and
# drop callbacks). Any finding, crash or failed test makes the script exit non-zero.
#
# How: the source lists are parsed from build.zig so they are never duplicated. Objects
# and binaries go to .zig-cache/sanitize/<mode>/ (git-ignored). The compiler is clang (installed
# with apt-get when missing and running as root), else gcc. Env:
#   SANITIZE_MODES   modes to run (default "asan tsan")
#   SANITIZE_CC      force a compiler
#   TL_STEPS         passed through to the randomized tests (default: smaller under tsan)
#   SANITIZE_JOBS    parallel compile jobs (default: nproc)
#   TL_TEST_JOBS     tests run side by side (default: nproc; run_bins.sh)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
. "$root/c/tests/run_bins.sh" # run_bins, bin_status: the tests of a mode side by side
out="$root/.zig-cache/sanitize"
modes="${SANITIZE_MODES:-asan tsan}"
jobs="${SANITIZE_JOBS:-$(nproc 2>/dev/null || echo 2)}"

# Prints the quoted strings of one `const <name> = [_][]const u8{ ... };` list in build.zig.
zig_list() {
    awk -v name="$1" '
        $0 ~ "const " name " = " { inside = 1; next }
        inside && /^};/ { exit }
        inside { while (match($0, /"[^"]+"/)) { print substr($0, RSTART + 1, RLENGTH - 2);
                 $0 = substr($0, RSTART + RLENGTH) } }' build.zig
}

mapfile -t engine_sources < <(zig_list engine_sources)
mapfile -t listed_tests < <(zig_list test_sources)
mapfile -t shared_sources < <(zig_list shared_test_sources) # linked into every test (no main)
test_sources=()
missing=()
for src in "${listed_tests[@]}"; do # a test listed but not written yet is reported, not run
    if [ -f "$src" ]; then test_sources+=("$src"); else missing+=("$src"); fi
done
if [ "${#engine_sources[@]}" -eq 0 ] || [ "${#listed_tests[@]}" -eq 0 ]; then
    echo "sanitize: could not parse engine_sources / test_sources from build.zig" >&2
    exit 2
fi

pick_cc() {
    if [ -n "${SANITIZE_CC:-}" ]; then echo "$SANITIZE_CC"; return; fi
    if ! command -v clang >/dev/null 2>&1 && [ "$(id -u)" = 0 ] &&
        command -v apt-get >/dev/null 2>&1; then
        echo "sanitize: installing clang (apt-get)" >&2
        (apt-get update -qq && apt-get install -y -qq clang) >&2 || true
    fi
    if command -v clang >/dev/null 2>&1; then echo clang; else echo gcc; fi
}
cc="$(pick_cc)"
echo "sanitize: compiler $cc ($($cc --version | head -1))"
echo "sanitize: ${#engine_sources[@]} engine sources, ${#test_sources[@]} tests, modes: $modes"

base_flags=(-std=c17 -D_GNU_SOURCE -Ic/include -Ic/src -g -O1 -fno-omit-frame-pointer
    -Wall -Wextra)

mode_flags() {
    case "$1" in
    asan) echo "-fsanitize=address,undefined -fno-sanitize-recover=all" ;;
    tsan) echo "-fsanitize=thread" ;;
    *) echo "sanitize: unknown mode $1" >&2; exit 2 ;;
    esac
}

# Compiles one source to an object under $dir; used through xargs for parallelism.
compile_one() {
    local src="$1" dir="$2" obj
    shift 2
    obj="$dir/obj/$(echo "$src" | tr '/' '_').o"
    "$@" -c "$src" -o "$obj"
}
export -f compile_one

status=0
summary=()

build_mode() { # mode -> builds every test binary into $out/$mode/bin; returns non-zero on error
    local mode="$1" dir="$out/$1" flags
    read -r -a flags <<<"$(mode_flags "$mode")"
    rm -rf "$dir"
    mkdir -p "$dir/obj" "$dir/bin"
    printf '%s\n' "${engine_sources[@]}" "${shared_sources[@]}" "${test_sources[@]}" |
        xargs -P "$jobs" -I{} bash -c 'compile_one "$@"' _ {} "$dir" \
            "$cc" "${base_flags[@]}" "${flags[@]}" || return 1
    local engine_objs=() src
    for src in "${engine_sources[@]}" "${shared_sources[@]}"; do
        engine_objs+=("$dir/obj/$(echo "$src" | tr '/' '_').o")
    done
    for src in "${test_sources[@]}"; do
        "$cc" "${flags[@]}" -g "$dir/obj/$(echo "$src" | tr '/' '_').o" "${engine_objs[@]}" \
            -o "$dir/bin/$(basename "$src" .c)" -lpthread -lm || return 1
    done
}

run_mode() {
    local mode="$1" dir="$out/$1" src name log rc line steps bins=()
    steps="${TL_STEPS:-}"
    if [ -z "$steps" ] && [ "$mode" = tsan ]; then steps=600; fi
    for src in "${test_sources[@]}"; do bins+=("$dir/bin/$(basename "$src" .c)"); done
    (
        if [ -n "$steps" ]; then export TL_STEPS="$steps"; fi
        export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1:detect_stack_use_after_return=1"
        export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
        export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"
        run_bins "$dir" "${bins[@]}"
    )
    for src in "${test_sources[@]}"; do
        name="$(basename "$src" .c)"
        log="$dir/$name.log"
        rc=$(bin_status "$dir" "$name")
        line="$(grep -E '^# .*passed' "$log" 2>/dev/null | tail -1 || true)"
        if [ "$rc" -ne 0 ] || grep -qE 'Sanitizer|runtime error:' "$log" 2>/dev/null; then
            status=1
            summary+=("FAIL  $mode  $name (exit $rc) ${line:-}")
            echo "---- $mode $name: exit $rc; log $log (last 40 lines) ----"
            tail -40 "$log" 2>/dev/null || true
        else
            summary+=("ok    $mode  $name ${line:-}")
        fi
    done
}

for mode in $modes; do
    echo "sanitize: building ($mode)"
    if ! build_mode "$mode"; then
        status=1
        summary+=("FAIL  $mode  build failed")
        continue
    fi
    echo "sanitize: running ($mode)"
    run_mode "$mode"
done

for src in "${missing[@]}"; do summary+=("MISSING     $src (listed in build.zig, not found)"); done
echo
echo "sanitize results:"
printf '  %s\n' "${summary[@]}"
if [ $status -ne 0 ]; then echo "sanitize: FINDINGS (see logs under $out)"; fi
exit $status
