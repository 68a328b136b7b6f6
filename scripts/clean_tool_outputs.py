#!/usr/bin/env python3
"""Clean tool outputs for measuring false positives: pieces of files that ship with this machine's
Debian, Python 3.11 and Node 20 packages - source code, headers, docs and configs, what an agent's
read-file and shell tools return. Evaluation only: nothing here is used for training (the
classifier's benign code comes from the cargo registry, scripts/benign_code.py).

  python3 scripts/clean_tool_outputs.py 1 > target/tool_outputs_1.jsonl
  python3 scripts/clean_tool_outputs.py 2 > target/tool_outputs_2.jsonl
  python3 scripts/clean_tool_outputs.py 3 > target/tool_outputs_3.jsonl
  python3 scripts/clean_tool_outputs.py registry > target/tool_outputs_registry.jsonl
  aimds --config swarm-configs/low-latency.yaml eval --source tool_output --show-errors 50 target/tool_outputs_2.jsonl

Sample 1 (seed 11, 1,450 rows) was the first look: the rule false positives it showed were fixed.
Sample 2 (seed 2026, 1,476 rows, files disjoint from sample 1) was drawn after that, to measure.
Sample 3 (seed 3303, files disjoint from samples 1 and 2; adds the running Python's site-packages,
/usr/share/doc, Debian's perl5, corepack and Maven POMs, as the stdlib, /etc and Node's API docs
were used up) was drawn after sample 2 had been looked at, to measure again.
"registry" (seed 7, 1,770 rows) is whole files (up to 16 KB) of every crate in this machine's cargo
registry, not only the ones Cargo.lock names: partly the classifier's benign code rows, so not
held out, and it depends on what else was built on the machine.
Each row of samples 1 and 2 is up to 4 KB of a file from a randomly chosen line to its end. Python stdlib docstrings
are also in the classifier's benign supplement (scripts/benign_supplement.py), so the python_stdlib
rows are not entirely unseen text.
"""
import json
import os
import random
import sys
import sysconfig
from typing import NamedTuple


class Sample(NamedTuple):
    seed: int
    sources: dict  # category -> (root folder, file endings, files to take)
    min_file: int  # shorter files are passed over
    min_piece: int  # a shorter piece (a start near the end) is replaced by the file's first 4 KB
    skip_tests: bool  # pass over __pycache__ and test folders


SAMPLE_1 = Sample(11, {
    "py_stdlib": ("/usr/lib/python3.11", (".py",), 400),
    "c_include": ("/usr/include", (".h",), 300),
    "npm_js": ("/usr/lib/node_modules/npm", (".js", ".json", ".md"), 400),
    "etc": ("/etc", ("",), 200),
    "node_docs": ("/usr/share/doc/nodejs", (".md", ".html", ".json"), 150),
}, min_file=40, min_piece=40, skip_tests=False)
SAMPLE_2 = Sample(2026, {
    "python_dist_packages": ("/usr/lib/python3/dist-packages", (".py",), 400),
    "python_stdlib": ("/usr/lib/python3.11", (".py",), 250),
    "c_headers": ("/usr/include", (".h",), 250),
    "perl": ("/usr/share/perl", (".pm", ".pl", ".pod"), 250),
    "npm_js": ("/usr/lib/node_modules/npm", (".js", ".json", ".md"), 250),
    "node_api_docs": ("/usr/share/doc/nodejs/api", (".md",), 100),
    "etc_configs": ("/etc", ("",), 150),
}, min_file=80, min_piece=200, skip_tests=True)
SAMPLE_3 = Sample(3303, {
    "python_dist_packages": ("/usr/lib/python3/dist-packages", (".py",), 300),
    "python_site_packages": (sysconfig.get_paths()["purelib"], (".py",), 350),
    "c_headers": ("/usr/include", (".h",), 200),
    "perl": ("/usr/share/perl", (".pm", ".pl", ".pod"), 150),
    "perl5": ("/usr/share/perl5", (".pm",), 100),
    "npm_js": ("/usr/lib/node_modules/npm", (".js", ".json", ".md"), 150),
    "corepack_js": ("/usr/lib/node_modules/corepack", (".js", ".json", ".md"), 50),
    "usr_share_doc": ("/usr/share/doc", (".txt", ".md", ".html", ".rst", "copyright", "README"), 300),
    "maven_pom": ("/usr/share/maven-repo", (".pom",), 50),
}, min_file=80, min_piece=200, skip_tests=True)


def sample(spec: Sample, exclude=frozenset()):
    rng = random.Random(spec.seed)
    rows = []
    for name, (root, exts, n) in spec.sources.items():
        files = []
        for d, _, names in os.walk(root):
            for f in names:
                p = os.path.join(d, f)
                if p in exclude or (spec.skip_tests and ("__pycache__" in p or "/test" in p)):
                    continue
                if any(f.endswith(e) for e in exts) and os.path.isfile(p) and not os.path.islink(p):
                    files.append(p)
        files.sort()
        rng.shuffle(files)
        k = 0
        for p in files:
            if k >= n:
                break
            try:
                t = open(p, encoding="utf-8").read()
            except Exception:
                continue
            if len(t) < spec.min_file:
                continue
            lines = t.splitlines(keepends=True)
            i = rng.randrange(len(lines))
            c = "".join(lines[i:])[:4096]
            if len(c) < spec.min_piece:
                c = t[:4096]
            rows.append({"text": c, "label": "benign", "category": name, "path": p})
            k += 1
    return rows


REGISTRY_EXTS = {"rs": 400, "md": 400, "json": 200, "toml": 200, "c": 150, "h": 100, "yml": 150, "txt": 50,
                 "py": 100, "sh": 80, "sql": 80, "html": 80, "pl": 50, "cc": 50, "js": 80, "css": 40, "xml": 40,
                 "ini": 20, "cfg": 20}


def registry_sample():
    rng = random.Random(7)
    home = os.environ.get("CARGO_HOME") or os.path.expanduser("~/.cargo")
    files = {}
    for d, _, names in os.walk(os.path.join(home, "registry", "src")):
        for f in names:
            e = f.rsplit(".", 1)[-1] if "." in f else ""
            if e in REGISTRY_EXTS:
                files.setdefault(e, []).append(os.path.join(d, f))
    rows = []
    for e, n in REGISTRY_EXTS.items():
        fl = sorted(files.get(e, []))
        rng.shuffle(fl)
        for p in fl[:n]:
            try:
                t = open(p, encoding="utf-8").read()
            except Exception:
                continue
            if len(t) >= 40:
                rows.append({"text": t[:16384], "label": "benign", "category": "registry_" + e, "path": p})
    return rows


def main():
    which = sys.argv[1] if len(sys.argv) > 1 else "2"
    if which == "registry":
        for r in registry_sample():
            print(json.dumps(r))
        return
    first = sample(SAMPLE_1)
    if which == "1":
        rows = first
    else:
        second = sample(SAMPLE_2, exclude={r["path"] for r in first})
        rows = second if which == "2" else sample(SAMPLE_3, exclude={r["path"] for r in first + second})
    for r in rows:
        print(json.dumps(r))


if __name__ == "__main__":
    main()
