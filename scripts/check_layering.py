#!/usr/bin/env python3
"""Fails when src/ breaks the layer diagram in docs/architecture.md.

The diagram's allowed edges sit between the markers `<!-- layers:begin -->` and
`<!-- layers:end -->`, one folder per line: `routing: balancing endpoint config common`
(a folder may always include itself). This checks, over every src/<folder>/*.{h,cc}:

  * each `#include "src/<other>/..."` is an allowed edge (lower layers never include
    higher ones), and every folder under src/ is in the diagram;
  * the allowed edges form no cycle (so no two folders can include each other);
  * each folder's CMake target (ufc_cc_library NAME ufc_<folder> in src/CMakeLists.txt)
    links exactly the ufc_* targets of its allowed edges;
  * the public headers (include/ufc/) include nothing from src/.

  scripts/check_layering.py [--root DIR]    check a checkout (default: this one)
  scripts/check_layering.py --self-test     prove it fails on a deliberately wrong include
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

INCLUDE = re.compile(r'^\s*#\s*include\s+"src/([a-z_]+)/[^"]+"', re.M)
ANY_SRC_INCLUDE = re.compile(r'^\s*#\s*include\s+"src/', re.M)


def read_layers(root):
    text = open(os.path.join(root, "docs", "architecture.md"), encoding="utf-8").read()
    m = re.search(r"<!-- layers:begin -->(.*?)<!-- layers:end -->", text, re.S)
    if not m:
        sys.exit("check_layering: docs/architecture.md has no layers:begin/end block")
    layers = {}
    for line in m.group(1).splitlines():
        line = line.strip()
        if not line or line.startswith("```") or line.startswith("#"):
            continue
        name, _, deps = line.partition(":")
        layers[name.strip()] = set(deps.split())
    return layers


def find_cycle(layers):
    state = {}

    def visit(node, path):
        state[node] = "open"
        for dep in sorted(layers.get(node, ())):
            if state.get(dep) == "open":
                return path + [node, dep]
            if dep not in state:
                found = visit(dep, path + [node])
                if found:
                    return found
        state[node] = "done"
        return None

    for node in sorted(layers):
        if node not in state:
            found = visit(node, [])
            if found:
                return found
    return None


def cmake_deps(root):
    text = open(os.path.join(root, "src", "CMakeLists.txt"), encoding="utf-8").read()
    deps = {}
    for m in re.finditer(r"ufc_cc_library\((.*?)\)", text, re.S):
        body = m.group(1)
        name = re.search(r"NAME\s+ufc_([a-z_]+)", body)
        dep = re.search(r"DEPS(.*)", body, re.S)
        if name:
            found = re.findall(r"\bufc_([a-z_]+)", dep.group(1)) if dep else []
            deps[name.group(1)] = set(found) - {"proto", "meta_proto"}  # generated protocol code, not folders
    return deps


def check(root):
    layers = read_layers(root)
    problems = []
    for name, deps in layers.items():
        for dep in deps:
            if dep not in layers:
                problems.append(f"docs/architecture.md: {name} -> {dep}: {dep} is not a layer")
    cycle = find_cycle(layers)
    if cycle:
        problems.append("docs/architecture.md: the allowed edges form a cycle: " + " -> ".join(cycle))

    src = os.path.join(root, "src")
    for folder in sorted(os.listdir(src)):
        path = os.path.join(src, folder)
        if not os.path.isdir(path):
            continue
        if folder not in layers:
            problems.append(f"src/{folder}/: not in the layer diagram of docs/architecture.md")
            continue
        for dirpath, _, files in os.walk(path):
            for f in sorted(files):
                if not f.endswith((".h", ".cc")):
                    continue
                rel = os.path.relpath(os.path.join(dirpath, f), root)
                text = open(os.path.join(dirpath, f), encoding="utf-8").read()
                for m in INCLUDE.finditer(text):
                    other = m.group(1)
                    if other == folder or other in layers[folder]:
                        continue
                    line = text.count("\n", 0, m.start()) + 1
                    allowed = " ".join(sorted(layers[folder])) or "nothing"
                    problems.append(f"{rel}:{line}: {folder} may not include src/{other}/ "
                                    f"(it may include: {allowed})")

    deps = cmake_deps(root)
    for folder, allowed in sorted(layers.items()):
        if folder not in deps:
            problems.append(f"src/CMakeLists.txt: no ufc_cc_library NAME ufc_{folder}")
        elif deps[folder] != allowed:
            extra = sorted(deps[folder] - allowed)
            missing = sorted(allowed - deps[folder])
            problems.append(f"src/CMakeLists.txt: ufc_{folder} links "
                            f"{' '.join('ufc_' + d for d in sorted(deps[folder])) or 'none'}; "
                            f"the diagram says {' '.join('ufc_' + d for d in sorted(allowed)) or 'none'}"
                            + (f" (extra: {' '.join(extra)})" if extra else "")
                            + (f" (missing: {' '.join(missing)})" if missing else ""))

    public = os.path.join(root, "include", "ufc")
    for f in sorted(os.listdir(public)):
        text = open(os.path.join(public, f), encoding="utf-8").read()
        for m in ANY_SRC_INCLUDE.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            problems.append(f"include/ufc/{f}:{line}: a public header includes src/")
    return problems


def self_test(root):
    with tempfile.TemporaryDirectory() as tmp:
        for d in ("docs", "src", "include"):
            shutil.copytree(os.path.join(root, d), os.path.join(tmp, d))
        script = os.path.abspath(__file__)
        ok = subprocess.run([sys.executable, script, "--root", tmp], capture_output=True, text=True)
        if ok.returncode != 0:
            print(ok.stdout + ok.stderr)
            return "the unmodified tree does not pass"
        # A lower layer including a higher one: the endpoint room reaching for ban state.
        victim = os.path.join(tmp, "src", "endpoint", "endpoint.h")
        text = open(victim, encoding="utf-8").read()
        open(victim, "w", encoding="utf-8").write(
            text.replace('#include "src/endpoint/endpoint_stats.h"',
                         '#include "src/banning/ban_record.h"\n#include "src/endpoint/endpoint_stats.h"', 1))
        bad = subprocess.run([sys.executable, script, "--root", tmp], capture_output=True, text=True)
        print(bad.stdout, end="")
        if bad.returncode == 0 or "endpoint may not include src/banning/" not in bad.stdout:
            return "a wrong include went unnoticed"
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    parser.add_argument("--self-test", action="store_true")
    args = parser.parse_args()
    if args.self_test:
        failure = self_test(args.root)
        if failure:
            print(f"check_layering self-test FAILED: {failure}")
            return 1
        print("check_layering self-test: a wrong include is caught")
        return 0
    problems = check(args.root)
    for p in problems:
        print(p)
    if problems:
        print(f"check_layering: {len(problems)} problem(s); the allowed edges are in docs/architecture.md")
        return 1
    print("check_layering: every include follows the layer diagram")
    return 0


if __name__ == "__main__":
    sys.exit(main())
