#!/usr/bin/env bash
# c/tests/stress_ci.sh — the short stress pass for CI (a few minutes on 2 cores).
#
# What it proves, briefly: the soak test (c/tests/soak.c: one writer, one reader per core,
# background maintenance, every snapshot checked against the model version it must show) for
# 20 s; every committed fuzz input (corpus + regressions) replayed once; and a short fuzzing
# run of each libFuzzer target (30 s in total). Each stage prints its own
# "# <name>: N passed, M failed" line (soak, fuzz-replay, fuzz) for ./dev test to sum; the
# script exits non-zero when any stage fails. Needs zig 0.15.2 on PATH (./dev puts it there)
# and clang with libFuzzer (c/tests/fuzz/run.sh installs it when running as root).
# Env: STRESS_SOAK_SECONDS (20), STRESS_FUZZ_SECONDS (30).
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
soak_s="${STRESS_SOAK_SECONDS:-20}"
fuzz_s="${STRESS_FUZZ_SECONDS:-30}"
status=0
t0=$(date +%s)

if ! command -v zig >/dev/null 2>&1; then # outside ./dev: the pinned copy, if installed
    for z in "$root"/.tools/zig-*/zig; do [ -x "$z" ] && PATH="$(dirname "$z"):$PATH"; done
fi

echo "== stress: soak --seconds $soak_s"
if zig build soak; then
    zig-out/bin/soak --seconds "$soak_s" || status=1
else
    echo "# soak: 0 passed, 1 failed"
    status=1
fi

echo "== stress: fuzz replay"
bash c/tests/fuzz/run.sh replay || status=1

echo "== stress: fuzz --seconds $fuzz_s"
bash c/tests/fuzz/run.sh fuzz --seconds "$fuzz_s" || status=1

echo "stress: done in $(($(date +%s) - t0)) s"
exit $status
