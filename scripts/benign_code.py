#!/usr/bin/env python3
"""Benign training text of the kind an agent's tools return most: source code, manifests, configs,
licences and READMEs, from the dependencies this workspace already downloaded.

Why: an agent that reads a repository gets file after file of code back from its tools. A classifier
that never saw code as benign text learns nothing about it, and its n-grams land wherever they happen
to hash: before this file, 4.0 % of ordinary source files from the cargo registry were flagged
(`#[cfg(feature = ...)]` lines, `use` blocks, licence headers, Cargo.toml), more than any other kind of
benign text we measure.

Where from: the crates that `Cargo.lock` names, as `cargo fetch` / `cargo build` unpacked them under
`$CARGO_HOME/registry/src/*/<name>-<version>/`. That set is fixed by the lock file, so every machine
that built this commit gets the same rows (crates of other projects in the same registry are not
read). Files are walked in sorted order and sampled by a hash of their path, never at random. Each
row is a run of whole lines (~0.4-2 KB, the size of what a tool returns in one piece) with its crate
as `subcategory`, so `aimds train` weighs a crate as one group.

What is left out: generated data tables and binary files (`data/` folders, non-UTF-8, lines over 300
bytes; a version that kept them measured worse on out-of-distribution code and lost a red-team seed),
and test fixtures and benches, which hold deliberately odd inputs (some of them attack-like strings, e.g. a
URL parser's `file:///etc` cases).

Usage: python3 scripts/benign_code.py [Cargo.lock] > target/benign_code.jsonl
"""
import hashlib
import json
import os
import re
import sys

KINDS = {
    ".rs": "rust", ".toml": "toml", ".md": "markdown", ".json": "json", ".yml": "yaml", ".yaml": "yaml",
    ".c": "c", ".h": "c", ".cc": "cpp", ".cpp": "cpp", ".py": "python", ".sh": "shell", ".pl": "perl",
    ".js": "javascript", ".ts": "javascript", ".css": "css", ".html": "html", ".txt": "text", ".go": "go",
}
LICENCE = re.compile(r"^(LICEN[CS]E|COPYING|NOTICE)", re.I)
SKIP_DIRS = {"tests", "test", "testdata", "benches", "fuzz", "fixtures", "data", "target", ".git"}
MAX_FILES_PER_CRATE = 16
MAX_CHUNKS_PER_FILE = 3
CHUNK_MIN, CHUNK_MAX = 400, 2000
MAX_LINE = 300  # longer lines are generated tables, minified code or data


def share(key: str) -> int:
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % 100


def locked_crates(lock_path: str) -> list[tuple[str, str]]:
    """(name, version) of every registry package in Cargo.lock."""
    crates, name, version = [], None, None
    for line in open(lock_path, encoding="utf-8"):
        line = line.strip()
        if line == "[[package]]":
            name = version = None
        elif line.startswith('name = "'):
            name = line.split('"')[1]
        elif line.startswith('version = "'):
            version = line.split('"')[1]
        elif line.startswith("source = ") and "registry+" in line and name and version:
            crates.append((name, version))
    return sorted(set(crates))


def registry_dirs() -> list[str]:
    home = os.environ.get("CARGO_HOME") or os.path.expanduser("~/.cargo")
    src = os.path.join(home, "registry", "src")
    return [os.path.join(src, d) for d in sorted(os.listdir(src))] if os.path.isdir(src) else []


def kind_of(name: str) -> str | None:
    if LICENCE.match(name):
        return "licence"
    if name == "Cargo.toml.orig":
        return None
    return KINDS.get(os.path.splitext(name)[1].lower())


def chunks(text: str) -> list[str]:
    """Runs of whole lines, CHUNK_MIN..CHUNK_MAX bytes each."""
    out, cur, size = [], [], 0
    for line in text.splitlines(keepends=True):
        if size + len(line) > CHUNK_MAX and size >= CHUNK_MIN:
            out.append("".join(cur))
            cur, size = [], 0
        cur.append(line)
        size += len(line)
    if size >= CHUNK_MIN or (not out and size >= 40):
        out.append("".join(cur))
    return [c[:CHUNK_MAX] for c in out]


SEEN: set[str] = set()  # many crates ship the same licence texts: each chunk once


def crate_rows(name: str, root: str, label_root: str) -> None:
    files = []
    for d, dirs, names in os.walk(root):
        dirs[:] = sorted(x for x in dirs if x.lower() not in SKIP_DIRS)
        for n in sorted(names):
            kind = kind_of(n)
            if kind:
                files.append((os.path.join(d, n), kind))
    files.sort(key=lambda f: share(os.path.relpath(f[0], label_root)))
    picked = 0
    for path, kind in files:
        if picked >= MAX_FILES_PER_CRATE:
            break
        rel = os.path.relpath(path, label_root)
        try:
            with open(path, encoding="utf-8", errors="strict") as f:
                text = f.read(1_000_000)
        except (OSError, UnicodeDecodeError):
            continue
        if not text.strip() or max((len(l) for l in text.splitlines()), default=0) > MAX_LINE:
            continue
        parts = chunks(text)
        parts.sort(key=lambda c: share(rel + c[:64]))
        for part in parts[:MAX_CHUNKS_PER_FILE]:
            digest = hashlib.sha256(" ".join(part.split()).encode()).hexdigest()
            if digest in SEEN:
                continue
            SEEN.add(digest)
            row = {"text": part, "label": "benign", "category": f"benign_code_{kind}",
                   "subcategory": f"crate:{name}", "source": f"cargo-registry:{rel}"}
            print(json.dumps(row, ensure_ascii=False))
        picked += 1


def main() -> None:
    lock = sys.argv[1] if len(sys.argv) > 1 else "Cargo.lock"
    roots = registry_dirs()
    missing = 0
    for name, version in locked_crates(lock):
        found = next((os.path.join(r, f"{name}-{version}") for r in roots
                      if os.path.isdir(os.path.join(r, f"{name}-{version}"))), None)
        if not found:
            missing += 1
            continue
        crate_rows(name, found, os.path.dirname(found))
    if missing:
        print(f"benign_code: {missing} locked crates are not unpacked (run `cargo fetch` first)", file=sys.stderr)


if __name__ == "__main__":
    main()
