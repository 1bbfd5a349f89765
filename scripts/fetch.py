#!/usr/bin/env python3
"""Fetches one pinned tool into .tools/ from the registries this project allows.

    fetch.py zig  VERSION DEST   -> DEST/zig        (PyPI wheel `ziglang`, sha256-checked)
    fetch.py deno VERSION DEST   -> DEST/deno       (npm `@deno/<platform>`, sha512-checked)
    fetch.py bun  VERSION DEST   -> DEST/bun        (npm `@oven/bun-<platform>`, sha512-checked)

Only the standard library is used, so a fresh machine needs nothing but python3. The download
is verified against the digest the registry publishes, unpacked into a temporary folder and
moved into place at the end, so an interrupted fetch never leaves a half-installed tool.
"""
import base64
import hashlib
import io
import json
import os
import platform
import shutil
import sys
import tarfile
import tempfile
import urllib.request
import zipfile

PYPI = "https://pypi.org/simple"
NPM = "https://registry.npmjs.org"


def get(url: str, accept: str = "*/*") -> bytes:
    req = urllib.request.Request(url, headers={"User-Agent": "timelog-dev", "Accept": accept})
    with urllib.request.urlopen(req, timeout=300) as resp:
        return resp.read()


def machine() -> tuple[str, str]:
    system = platform.system().lower()
    arch = platform.machine().lower()
    arch = {"amd64": "x86_64", "arm64": "aarch64"}.get(arch, arch)
    return system, arch


def wheel_matches(filename: str, system: str, arch: str) -> bool:
    if system == "linux":
        return "manylinux" in filename and arch in filename
    if system == "darwin":
        return "macosx" in filename and (arch in filename or "universal2" in filename)
    if system == "windows":
        return "win" in filename and ("amd64" in filename if arch == "x86_64" else "arm64" in filename)
    return False


def fetch_zig(version: str, dest: str) -> None:
    system, arch = machine()
    # PEP 691 JSON form of the simple index: the API pip itself uses.
    meta = json.loads(get(f"{PYPI}/ziglang/", "application/vnd.pypi.simple.v1+json"))
    files = [f for f in meta["files"]
             if f["filename"].startswith(f"ziglang-{version}-") and f["filename"].endswith(".whl")]
    pick = [f for f in files if wheel_matches(f["filename"], system, arch)]
    if not pick:
        sys.exit(f"fetch: no ziglang {version} wheel for {system}/{arch}")
    wheel = pick[0]
    data = get(wheel["url"])
    if hashlib.sha256(data).hexdigest() != wheel["hashes"]["sha256"]:
        sys.exit("fetch: ziglang wheel sha256 mismatch")
    tmp = tempfile.mkdtemp(dir=os.path.dirname(dest) or ".")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for info in zf.infolist():
            if info.filename.startswith("ziglang/"):
                zf.extract(info, tmp)
    root = os.path.join(tmp, "ziglang")
    exe = os.path.join(root, "zig.exe" if system == "windows" else "zig")
    os.chmod(exe, 0o755)
    install(root, dest, tmp)


def npm_package(tool: str) -> tuple[str, str]:
    system, arch = machine()
    if tool == "deno":
        names = {
            ("linux", "x86_64"): "@deno/linux-x64-glibc",
            ("linux", "aarch64"): "@deno/linux-arm64-glibc",
            ("darwin", "x86_64"): "@deno/darwin-x64",
            ("darwin", "aarch64"): "@deno/darwin-arm64",
            ("windows", "x86_64"): "@deno/win32-x64",
        }
        return names.get((system, arch), ""), "package/deno"
    names = {
        ("linux", "x86_64"): "@oven/bun-linux-x64",
        ("linux", "aarch64"): "@oven/bun-linux-aarch64",
        ("darwin", "x86_64"): "@oven/bun-darwin-x64",
        ("darwin", "aarch64"): "@oven/bun-darwin-aarch64",
        ("windows", "x86_64"): "@oven/bun-windows-x64",
    }
    return names.get((system, arch), ""), "package/bin/bun"


def fetch_npm_binary(tool: str, version: str, dest: str) -> None:
    name, member = npm_package(tool)
    if not name:
        sys.exit(f"fetch: no {tool} build for {machine()}")
    meta = json.loads(get(f"{NPM}/{name.replace('/', '%2F')}/{version}"))
    data = get(meta["dist"]["tarball"])
    algo, _, want = meta["dist"]["integrity"].partition("-")
    if base64.b64encode(hashlib.new(algo, data).digest()).decode() != want:
        sys.exit(f"fetch: {name}@{version} integrity mismatch")
    tmp = tempfile.mkdtemp(dir=os.path.dirname(dest) or ".")
    root = os.path.join(tmp, "out")
    os.makedirs(root)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tf:
        f = tf.extractfile(member) or tf.extractfile(member + ".exe")
        if f is None:
            sys.exit(f"fetch: {member} missing from {name}@{version}")
        exe = os.path.join(root, os.path.basename(member))
        with open(exe, "wb") as out:
            shutil.copyfileobj(f, out)
    os.chmod(exe, 0o755)
    install(root, dest, tmp)


def install(root: str, dest: str, tmp: str) -> None:
    if os.path.exists(dest):
        shutil.rmtree(dest)
    os.replace(root, dest)
    shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    if len(sys.argv) != 4 or sys.argv[1] not in ("zig", "deno", "bun"):
        sys.exit(__doc__)
    tool, version, dest = sys.argv[1:]
    os.makedirs(os.path.dirname(os.path.abspath(dest)), exist_ok=True)
    if tool == "zig":
        fetch_zig(version, dest)
    else:
        fetch_npm_binary(tool, version, dest)


if __name__ == "__main__":
    main()
