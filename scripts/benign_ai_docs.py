#!/usr/bin/env python3
"""Benign text about building with LLMs, for training the classifier: the register of developers who
work with models - system prompts, agents, tools, messages, tokens, guardrails - taken from the
documentation of the SDKs they use.

Why: the attack corpora talk about "the system prompt", "the agent", "the tools" and "instructions"
all the time, and the benign rows almost never do, so the classifier learned those words as attack
vocabulary. A developer's ordinary questions ("How should I structure a system prompt for a
customer-service agent?", "How do I log every prompt and response from our LLM gateway?") scored
0.73-1.00 (scripts/chat_prompts.jsonl, set D). The same words in their ordinary use are all over
the SDKs' own docs.

Source: the wheels of five SDKs from PyPI (pinned below; nothing unpacked into the repository): the
README (the wheel's METADATA description) and the docstrings of every module, class and function,
split into paragraphs and packed into rows of up to MAX_ROW characters. Code blocks in the README are
dropped (they are code, which scripts/benign_code.py covers). Each row's group (`subcategory`) is
its package and file, so the trainer weighs a file, not a row; at most MAX_PER_PACKAGE rows per package.

    pip download --no-deps -d target/wheels_ai openai==1.109.1 anthropic==0.69.0 \\
        langchain-core==0.3.79 mcp==1.16.0 llama-index-core==0.14.4
    python3 scripts/benign_ai_docs.py target/wheels_ai > target/benign_ai_docs.jsonl

Held out, for measuring only (never trained on): four other SDKs, read the same way.

    pip download --no-deps -d target/wheels_ai_eval google-genai==1.41.0 cohere==5.18.0 \
        mistralai==1.9.10 groq==0.32.0
    python3 scripts/benign_ai_docs.py --any target/wheels_ai_eval > target/ai_docs_eval.jsonl

Deterministic: files are read in sorted order and rows kept by a hash of their text, never at random.
"""
import ast
import email.parser
import glob
import hashlib
import json
import os
import re
import sys
import zipfile

MAX_ROW = 1200
MIN_ROW = 60
MAX_PER_PACKAGE = 600
WHEELS = ("openai", "anthropic", "langchain_core", "mcp", "llama_index_core")


def paragraphs(text):
    """Prose paragraphs of a docstring or README: blank-line separated, code blocks and tables left out."""
    text = re.sub(r"```.*?```", "\n\n", text, flags=re.S)
    for para in re.split(r"\n\s*\n", text):
        lines = [l.strip() for l in para.strip().splitlines()]
        if not lines or lines[0].startswith(("|", ">>>", "...", "$ ", "<", "[!")):
            continue
        para = " ".join(l for l in lines if l)
        letters = sum(c.isalpha() for c in para)
        if len(para) >= 20 and letters >= 0.6 * len(para):
            yield para


def rows_of(paras):
    """Consecutive paragraphs packed into rows of MIN_ROW..MAX_ROW characters."""
    row = ""
    for p in paras:
        if row and len(row) + len(p) + 2 > MAX_ROW:
            if len(row) >= MIN_ROW:
                yield row
            row = ""
        row = p[:MAX_ROW] if not row else row + "\n\n" + p
    if len(row) >= MIN_ROW:
        yield row


def docstrings(source):
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            doc = ast.get_docstring(node)
            if doc:
                yield doc


def rank(text):
    """A stable choice of rows when a package has more than MAX_PER_PACKAGE."""
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)


def wheel_rows(path):
    package = os.path.basename(path).split("-")[0]
    out = []
    with zipfile.ZipFile(path) as z:
        for name in sorted(z.namelist()):
            if name.endswith(".dist-info/METADATA"):
                meta = email.parser.Parser().parsestr(z.read(name).decode("utf-8", "replace"))
                body = meta.get_payload() or ""
                out += [(package, "README", r) for r in rows_of(paragraphs(body))]
            elif name.endswith(".py") and "/tests/" not in name and "/test_" not in name:
                src = z.read(name).decode("utf-8", "replace")
                paras = [p for d in docstrings(src) for p in paragraphs(d)]
                out += [(package, name, r) for r in rows_of(paras)]
    seen = set()
    unique = []
    for p, f, r in out:
        if r not in seen:
            seen.add(r)
            unique.append((p, f, r))
    if len(unique) > MAX_PER_PACKAGE:
        unique = sorted(sorted(unique, key=lambda x: rank(x[2]))[:MAX_PER_PACKAGE], key=lambda x: (x[1], x[2]))
    return unique


def main():
    args = sys.argv[1:]
    any_wheels = "--any" in args
    args = [a for a in args if a != "--any"]
    folder = args[0] if args else "target/wheels_ai"
    wheels = sorted(glob.glob(os.path.join(folder, "*.whl")))
    found = {os.path.basename(w).split("-")[0] for w in wheels}
    missing = [w for w in WHEELS if w not in found]
    if missing and not any_wheels:
        sys.exit(f"missing wheels in {folder}: {', '.join(missing)} (see this script's docstring)")
    for w in wheels:
        for package, name, text in wheel_rows(w):
            print(json.dumps({"text": text, "label": "benign", "category": "ai_docs",
                              "subcategory": f"ai_docs/{package}/{name}", "source": os.path.basename(w)},
                             ensure_ascii=False))


if __name__ == "__main__":
    main()
