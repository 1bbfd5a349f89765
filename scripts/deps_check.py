#!/usr/bin/env python3
"""scripts/deps_check.py — dependencies point one way (./dev test runs it).

Two checks, each a test in the closing count:
  c   the call graph between the engine's files (c/src/**/*.c): file A depends on file B when
      A calls a non-static tl_* function defined in B. A cycle (say timelog.c calls a job in
      flush.c, which calls back into timelog.c) fails, naming the files and the edges.
  ts  the import graph of the TypeScript binding (mod.ts, src/**/*.ts), static and dynamic
      relative imports alike.
Prints "# deps: N passed, M failed".
"""
import glob
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def c_graph():
    files = sorted(glob.glob(os.path.join(ROOT, "c/src/**/*.c"), recursive=True))
    texts = {f: open(f, encoding="utf-8").read() for f in files}
    defs = {}
    decl = re.compile(r"^(?!static)[A-Za-z_][A-Za-z0-9_ \*]*?\b(tl_[a-z0-9_]+)\([^;{]*\)\s*\{", re.M | re.S)
    for f, s in texts.items():
        for m in decl.finditer(s):
            defs.setdefault(m.group(1), f)
    graph = {f: {} for f in files}
    for f, s in texts.items():
        for m in re.finditer(r"\b(tl_[a-z0-9_]+)\(", s):
            d = defs.get(m.group(1))
            if d and d != f:
                graph[f].setdefault(d, m.group(1))
    return graph


def ts_graph():
    files = [os.path.join(ROOT, "mod.ts")] + sorted(
        glob.glob(os.path.join(ROOT, "src/**/*.ts"), recursive=True))
    graph = {}
    imp = re.compile(r"""(?:from|import)\s*\(?\s*["'](\.{1,2}/[^"']+)["']""")
    for f in files:
        s = open(f, encoding="utf-8").read()
        graph[f] = {}
        for m in imp.finditer(s):
            target = os.path.normpath(os.path.join(os.path.dirname(f), m.group(1)))
            if target in files or os.path.exists(target):
                graph[f][target] = m.group(1)
    return graph


def cycles(graph):
    """Strongly connected components with more than one file (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]
    sys.setrecursionlimit(100000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(comp)

    for v in graph:
        if v not in index:
            visit(v)
    return out


def main():
    passed = failed = 0
    for name, graph in (("c", c_graph()), ("ts", ts_graph())):
        found = cycles(graph)
        if not found:
            passed += 1
            print(f"ok - {name}: {len(graph)} files, no dependency cycle")
            continue
        failed += 1
        for comp in found:
            rel = [os.path.relpath(f, ROOT) for f in comp]
            print(f"not ok - {name}: cycle between {', '.join(sorted(rel))}")
            for a in comp:
                for b, via in graph[a].items():
                    if b in comp:
                        print(f"    {os.path.relpath(a, ROOT)} -> {os.path.relpath(b, ROOT)} ({via})")
    print(f"# deps: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
