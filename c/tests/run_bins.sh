# c/tests/run_bins.sh — runs C test binaries side by side (sourced by ./dev and sanitize.sh).
#
# run_bins <dir> <binary>... runs the binaries named in $TL_SOLO_TESTS alone first (they keep
# every core busy themselves: durable_crash_test's workers), then the rest $TL_TEST_JOBS at a
# time (default: the machine's cores; each is one thread but for short background jobs, so
# two at a time halve the stage on two cores). Each binary's output goes to <dir>/<name>.log
# and its exit status to <dir>/<name>.rc; callers read them back in their own order, so the
# report does not depend on which finished first. The environment reaches every binary.
TL_SOLO_TESTS=${TL_SOLO_TESTS:-durable_crash_test}

run_bins() {
  local dir=$1 bin rc solo=() rest=()
  shift
  for bin in "$@"; do
    if [[ " $TL_SOLO_TESTS " == *" $(basename "$bin") "* ]]; then solo+=("$bin"); else rest+=("$bin"); fi
  done
  for bin in ${solo[@]+"${solo[@]}"}; do
    rc=0
    "$bin" >"$dir/$(basename "$bin").log" 2>&1 || rc=$?
    echo "$rc" >"$dir/$(basename "$bin").rc"
  done
  [ "${#rest[@]}" -gt 0 ] || return 0
  printf '%s\n' "${rest[@]}" | xargs -P "${TL_TEST_JOBS:-$(nproc 2>/dev/null || echo 2)}" -I{} \
    bash -c '"$1" >"$2/$(basename "$1").log" 2>&1; echo $? >"$2/$(basename "$1").rc"' _ {} "$dir"
}

# The exit status run_bins recorded for a binary (1 when none was: it never ran).
bin_status() { cat "$1/$(basename "$2").rc" 2>/dev/null || echo 1; }
