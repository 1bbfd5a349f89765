#!/usr/bin/env bash
# scripts/install_test.sh — the install stage of ./dev test (also ./dev install-test).
#
# What it proves: the packages `./dev pack` writes install and run like any package, on a
# machine with no toolchain and no checkout. It starts a local npm registry (verdaccio 6.8.0,
# pinned by scripts/verdaccio/package-lock.json, run with Node.js: 6.8 supports the Node 20
# these machines have, and Bun is not a runtime verdaccio supports) listening on 127.0.0.1 only,
# with its storage in a temp dir; publishes dist/npm/*.tgz to it; then, in scratch directories
# under /tmp with a PATH that holds only bun, deno, node and the system's own tools (no zig)
# and no TIMELOG_LIB:
#   bun       `bun add @timelog/timelog` and run every example with Bun;
#   deno      `deno add npm:@timelog/timelog` (fresh DENO_DIR) and run every example with Deno;
#   jsr       the JSR publish set (mod.ts + src/, TypeScript) served over HTTP as a registry
#             serves it, imported by URL, finding its library through `npm:` platform packages;
# each example's output must equal the checkout's output of the same example. Also checks
# that only this machine's platform packages were installed and that `deno publish --dry-run`
# reports no problem. The registry and the file server are stopped on every exit path.
#
# Prints "# install: N passed, M failed". Needs dist/npm/*.tgz (./dev pack), bun, deno, node,
# npm and python3 on PATH (./dev puts the pinned bun and deno first).
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
VERDACCIO_VERSION=6.8.0
vdir="$root/.tools/verdaccio-$VERDACCIO_VERSION"
version=$(sed -n 's/^export const VERSION = "\(.*\)";$/\1/p' src/version.ts)
examples=(rolling_stats.ts ttl_cache.ts event_log.ts)
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok - $*"; }
bad() { failed=$((failed + 1)); echo "not ok - $*"; }
done_() {
    echo "# install: $passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}

work=$(mktemp -d /tmp/timelog-install.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# ---- the registry ------------------------------------------------------------------------

if [ ! -x "$vdir/node_modules/.bin/verdaccio" ]; then
    echo "install: installing verdaccio $VERDACCIO_VERSION into .tools/ (npm ci) ..." >&2
    mkdir -p "$vdir"
    cp scripts/verdaccio/package.json scripts/verdaccio/package-lock.json "$vdir/"
    (cd "$vdir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) >&2 ||
        { bad "verdaccio $VERDACCIO_VERSION installs"; done_; exit 1; }
fi
tgzs=(dist/npm/*.tgz)
[ -e "${tgzs[0]}" ] || { bad "dist/npm holds the packed packages (run ./dev pack)"; done_; exit 1; }

port=$(free_port)
registry="http://127.0.0.1:$port"
mkdir -p "$work/registry/storage"
cat >"$work/registry/config.yaml" <<EOF
storage: $work/registry/storage
uplinks: {}
packages:
  '@*/*': { access: \$all, publish: \$all }
  '**': { access: \$all, publish: \$all }
listen: 127.0.0.1:$port
log: { type: stdout, format: pretty, level: error }
EOF
node "$vdir/node_modules/.bin/verdaccio" --config "$work/registry/config.yaml" \
    >"$work/registry/log.txt" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
    curl -sf "$registry/-/ping" >/dev/null 2>&1 && break
    sleep 0.2
done
if curl -sf "$registry/-/ping" >/dev/null 2>&1; then ok "verdaccio $VERDACCIO_VERSION serves on $registry"; else
    bad "verdaccio starts"; cat "$work/registry/log.txt"; done_; exit 1
fi

echo "//127.0.0.1:$port/:_authToken=anonymous" >"$work/npmrc"
published=0
for t in "${tgzs[@]}"; do
    npm publish "$t" --registry "$registry" --userconfig "$work/npmrc" --loglevel=error >/dev/null 2>"$work/publish.err" &&
        published=$((published + 1)) || cat "$work/publish.err"
done
[ "$published" -eq "${#tgzs[@]}" ] && ok "published ${#tgzs[@]} packages" || bad "publish ($published of ${#tgzs[@]})"

# ---- a user's machine: no zig, no checkout, no TIMELOG_LIB --------------------------------

userpath="$(dirname "$(command -v bun)"):$(dirname "$(command -v deno)"):$(dirname "$(command -v node)"):/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin"
user() { env -i HOME="$work/home" PATH="$userpath" TERM=dumb "$@"; }
mkdir -p "$work/home"
if user bash -c 'command -v zig' >/dev/null; then bad "the user's PATH has no zig"; else ok "the user's PATH has no zig"; fi

# The checkout's own output of each example, to compare with.
for e in "${examples[@]}"; do
    bun "examples/$e" >"$work/want-$e.txt" || bad "checkout: bun examples/$e"
done

check_examples() { # label dir runner...
    local label=$1 dir=$2 e
    shift 2
    for e in "${examples[@]}"; do
        cp "examples/$e" "$dir/$e"
        if (cd "$dir" && user "$@" "$e") >"$work/got.txt" 2>"$work/err.txt" &&
            cmp -s "$work/got.txt" "$work/want-$e.txt"; then
            ok "$label: $e prints the checked output"
            [ "$e" = rolling_stats.ts ] && sed -n '1,3p' "$work/got.txt" | sed "s/^/    $label | /"
        else
            bad "$label: $e"
            diff "$work/want-$e.txt" "$work/got.txt" | head -20
            tail -5 "$work/err.txt"
        fi
    done
}

# (1) Bun
mkdir -p "$work/bun"
echo '{ "name": "scratch", "private": true, "type": "module" }' >"$work/bun/package.json"
if (cd "$work/bun" && user BUN_CONFIG_REGISTRY="$registry" bun add "@timelog/timelog@$version") \
    >"$work/bun-add.txt" 2>&1; then
    ok "bun add @timelog/timelog@$version"
    echo "    bun | installed: $(cd "$work/bun/node_modules/@timelog" && echo *)"
    n=$(ls "$work/bun/node_modules/@timelog" | grep -c -- '-') # platform packages installed
    [ "$n" -ge 1 ] && [ "$n" -le 2 ] && ok "bun installed only this machine's platform package(s): $n of 7" ||
        bad "bun installed $n platform packages"
else
    bad "bun add"; cat "$work/bun-add.txt"
fi
check_examples bun "$work/bun" bun

# (2) Deno, through npm:
mkdir -p "$work/deno"
echo '{}' >"$work/deno/deno.json"
denoenv=(DENO_DIR="$work/deno-dir" NPM_CONFIG_REGISTRY="$registry" DENO_NO_UPDATE_CHECK=1)
if (cd "$work/deno" && user "${denoenv[@]}" deno add --minimum-dependency-age=0 "npm:@timelog/timelog@$version") \
    >"$work/deno-add.txt" 2>&1; then
    ok "deno add npm:@timelog/timelog@$version"
    echo "    deno | $(grep -o '"@timelog/timelog": "[^"]*"' "$work/deno/deno.json")"
else
    bad "deno add"; cat "$work/deno-add.txt"
fi
check_examples deno "$work/deno" "${denoenv[@]}" deno run --minimum-dependency-age=0 \
    --allow-ffi --allow-env --allow-read

# Deno's npm cache keeps every package's metadata; a package is installed when its version is.
inst=$(cd "$work/deno-dir/npm"/*/@timelog 2>/dev/null && ls -d timelog-*/"$version" 2>/dev/null | cut -d/ -f1)
n=$(printf '%s\n' $inst | grep -c .)
[ "$n" -ge 1 ] && [ "$n" -le 2 ] && ok "deno installed only this machine's platform package(s):" $inst ||
    bad "deno installed $n platform packages:" $inst

# (3) The JSR module: the publish set served over HTTP, its library from npm: platform packages
mkdir -p "$work/jsr-src" "$work/jsr"
cp mod.ts "$work/jsr-src/" && cp -r src "$work/jsr-src/"
jport=$(free_port)
# http.server guesses .ts as MPEG transport streams; serve TypeScript as registries do.
(cd "$work/jsr-src" && exec python3 -c 'import http.server as h, sys
h.SimpleHTTPRequestHandler.extensions_map[".ts"] = "application/typescript"
h.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), h.SimpleHTTPRequestHandler).serve_forever()' \
    "$jport") >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$jport/mod.ts" >/dev/null 2>&1 && break; sleep 0.1; done
echo "{ \"imports\": { \"@timelog/timelog\": \"http://127.0.0.1:$jport/mod.ts\" } }" >"$work/jsr/deno.json"
check_examples jsr "$work/jsr" DENO_DIR="$work/jsr-dir" NPM_CONFIG_REGISTRY="$registry" \
    DENO_NO_UPDATE_CHECK=1 deno run --minimum-dependency-age=0 --allow-import=127.0.0.1:"$jport" \
    --allow-ffi --allow-env --allow-read
pkgs=$(ls "$work/jsr-dir/npm"/*/@timelog 2>/dev/null | tr '\n' ' ')
case "$pkgs" in
*linux-x64-gnu*) ok "jsr: fetched only $pkgs" ;;
*) [ "$(uname -sm)" != "Linux x86_64" ] && ok "jsr: fetched $pkgs" || bad "jsr: fetched '$pkgs'" ;;
esac

# ---- the musl artifact, under musl's own loader (x86_64 Linux hosts) -----------------------

musl_loader=/lib/ld-musl-x86_64.so.1
if [ "$(uname -sm)" = "Linux x86_64" ]; then
    if [ ! -e "$musl_loader" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "install: installing musl (apt-get) to run the musl artifact" >&2
        (apt-get install -y -qq musl || (apt-get update -qq && apt-get install -y -qq musl)) >/dev/null 2>&1
    fi
    mkdir -p "$work/musl"
    tar xzf dist/npm/timelog-timelog-linux-x64-musl-"$version".tgz -C "$work/musl" package/libtimelog.so
    if [ -e "$musl_loader" ] && command -v zig >/dev/null &&
        zig cc -target x86_64-linux-musl -dynamic scripts/musl_probe.c -o "$work/musl_probe" 2>"$work/cc.txt" &&
        out=$("$work/musl_probe" "$work/musl/package/libtimelog.so"); then
        ok "linux-x64-musl library under musl's loader: $out"
    else
        bad "linux-x64-musl library loads under musl's loader (loader: $musl_loader)"; cat "$work/cc.txt" 2>/dev/null
    fi
fi

# ---- JSR readiness --------------------------------------------------------------------------

if deno publish --dry-run --allow-dirty 2>&1 | sed 's/\x1b\[[0-9;]*m//g' >"$work/publish.txt" &&
    grep -q '^Success Dry run complete' "$work/publish.txt" &&
    ! grep -qE '^(warning|error)' "$work/publish.txt"; then
    ok "deno publish --dry-run: $(grep -c 'file:///' "$work/publish.txt") files, no warning, no slow types"
else
    bad "deno publish --dry-run"; cat "$work/publish.txt"
fi

done_
