#!/usr/bin/env python3
"""Fails if the `use crate::…` / `use super::…` imports between the
perfstress library's modules form a cycle (test modules left out).

A module is a file's module path cut to two levels (`runner/local`,
`report/console`, `plan`). Cycles are looked for among the top-level
modules, and among the submodules of each folder.

Usage: python3 scripts/module-cycles.py [--edges]
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent / "crates/perfstress/src"
PATH = re.compile(r"\b((?:crate|super|self)(?:::[A-Za-z_][A-Za-z0-9_]*)+)")


def module_path(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] in ("mod", "lib"):
        parts.pop()
    return parts


def main():
    files = [p for p in ROOT.rglob("*.rs") if "tests" not in p.relative_to(ROOT).parts]
    known = {"/".join(module_path(p)) for p in files}
    edges = set()
    for path in files:
        here = module_path(path)
        importer = "/".join(here[:2])
        if not importer:
            continue  # lib.rs
        text = path.read_text().split("#[cfg(test)]\nmod tests")[0]
        for line in text.splitlines():
            if line.lstrip().startswith("//"):
                continue
            for match in PATH.finditer(line):
                segments = match.group(1).split("::")
                base = list(here)
                while segments and segments[0] in ("self", "super", "crate"):
                    head = segments.pop(0)
                    if head == "crate":
                        base = []
                    elif head == "super":
                        base = base[:-1]
                target = base + segments
                # The longest known module that the path names, cut to two levels.
                for depth in range(len(target), 0, -1):
                    if "/".join(target[:depth]) in known:
                        module = "/".join(target[: min(depth, 2)])
                        break
                else:
                    continue
                if module != importer:
                    edges.add((importer, module))
    if "--edges" in sys.argv:
        for a, b in sorted(edges):
            print(f"{a} -> {b}")
    cycles = []
    top = {}
    for a, b in edges:
        ta, tb = a.split("/")[0], b.split("/")[0]
        if ta != tb:
            top.setdefault(ta, set()).add(tb)
    cycles += find_cycles(top)
    inner = {}
    for a, b in edges:
        if "/" in a and a.split("/")[0] == b.split("/")[0]:
            inner.setdefault(a, set()).add(b)
    cycles += find_cycles(inner)
    for cycle in cycles:
        print("cycle: " + " -> ".join(cycle), file=sys.stderr)
    if cycles:
        return 1
    print(f"no import cycle among the library's modules ({len(edges)} edges)")
    return 0


def find_cycles(graph):
    cycles, state = [], {}

    def visit(node, stack):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, stack)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [])
    return cycles


if __name__ == "__main__":
    sys.exit(main())
