#!/usr/bin/env python3
"""Prints kpath's shape: files per folder, the largest functions, and the
include graph between folders. With --check, fails on an include that breaks
the layer order. Reads the tree as text; runs nothing."""
import collections
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PRODUCTION = ("base", "netns", "harness")

# The layers, lowest first, and what each may include (besides itself and
# what those include in turn). CMakeLists.txt links the same way.
LAYERS = {
    "base": [],
    "netns": ["base"],
    "harness/stats": ["base"],
    "harness/model": ["base"],
    "harness/cases": ["harness/model"],
    "harness/rules": ["harness/model", "netns"],
    "harness/generators": ["harness/rules", "harness/apiserver"],
    "harness/topology": ["harness/model", "netns"],
    "harness/traffic": ["harness/model", "netns"],
    "harness/apiserver": ["harness/model", "netns"],
    "harness/verdict": ["harness/traffic", "harness/stats"],
    "harness/host": ["harness/rules"],
    "harness/run": ["harness/generators", "harness/topology", "harness/verdict", "harness/host"],
    "harness/report": ["harness/run", "harness/cases"],
    "harness": ["harness/report"],
}


def allowed(layer):
    seen, todo = set(), [layer]
    while todo:
        for dep in LAYERS.get(todo.pop(), []):
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return seen


def sources(top):
    for d, _, files in os.walk(os.path.join(ROOT, top)):
        for f in sorted(files):
            if f.endswith((".cc", ".h")):
                yield os.path.relpath(os.path.join(d, f), ROOT)


def strip(text):
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r'R"(\w*)\((.*?)\)\1"', '""', text, flags=re.S)
    return re.sub(r'"(\\.|[^"\\\n])*"', '""', text)


def functions(path):
    """(lines, name) for every function body at namespace or class level."""
    text = strip(open(os.path.join(ROOT, path), encoding="utf-8").read())
    out, depth, start, name = [], 0, None, None
    head = re.compile(r"([~\w:<>]+)\s*\([^;{}]*\)\s*(const)?\s*(noexcept)?\s*(override)?\s*(->[^{;]*)?(:[^{;]*)?$")
    for i, ch in enumerate(text):
        if ch == "{":
            if start is None:
                before = text[max(0, i - 400):i].rsplit(";", 1)[-1].rsplit("}", 1)[-1].strip()
                m = head.search(before)
                if m and m.group(1) not in ("if", "for", "while", "switch", "catch", "namespace"):
                    start, name, depth = i, m.group(1), 0
            if start is not None:
                depth += 1
        elif ch == "}" and start is not None:
            depth -= 1
            if depth == 0:
                out.append((text.count("\n", start, i) + 1, f"{name} {path}:{text.count(chr(10), 0, start) + 1}"))
                start = None
    return out


def folder(path):
    return os.path.dirname(path)


def check(files):
    """Exit 1 on an include that goes up or sideways between layers."""
    bad = []
    for f in files:
        for n, line in enumerate(open(os.path.join(ROOT, f), encoding="utf-8"), 1):
            m = re.match(r'#include "([^"]+)"', line)
            if not m or folder(m.group(1)) == folder(f):
                continue
            if folder(f) not in LAYERS:
                bad.append(f"{f}: folder {folder(f)}/ is no layer (add it to LAYERS)")
            elif folder(m.group(1)) not in allowed(folder(f)):
                bad.append(f"{f}:{n}: {folder(f)}/ may not include {m.group(1)}")
    for b in bad:
        print(b)
    print(f"layers: {len(files)} files, {len(bad)} include(s) against the layer order")
    return 1 if bad else 0


def main():
    files = [f for top in PRODUCTION if os.path.isdir(os.path.join(ROOT, top)) for f in sources(top)]
    if sys.argv[1:] == ["--check"]:
        sys.exit(check(files))
    per_folder = collections.Counter(folder(f) for f in files)
    print("files per folder (production .cc/.h):")
    for d, n in sorted(per_folder.items()):
        print(f"  {n:3d}  {d}/")
    print(f"  {len(files):3d}  in all")

    funcs = sorted((fn for f in files if f.endswith(".cc") for fn in functions(f)), reverse=True)
    lengths = sorted(n for n, _ in funcs)
    print(f"\nfunctions: {len(funcs)}, median {lengths[len(lengths) // 2]} lines, "
          f"{sum(n > 40 for n in lengths)} over 40, {sum(n > 60 for n in lengths)} over 60; largest:")
    for n, where in funcs[: int(sys.argv[1]) if len(sys.argv) > 1 else 10]:
        print(f"  {n:4d}  {where}")

    edges = collections.Counter()
    for f in files:
        for inc in re.findall(r'#include "([^"]+)"', open(os.path.join(ROOT, f), encoding="utf-8").read()):
            if folder(inc) != folder(f):
                edges[(folder(f), folder(inc))] += 1
    print("\ninclude graph between folders (from -> to: #include lines):")
    for (a, b), n in sorted(edges.items()):
        print(f"  {a} -> {b}: {n}")


if __name__ == "__main__":
    main()
