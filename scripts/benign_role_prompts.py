#!/usr/bin/env python3
"""Benign role and system prompts, for training the classifier: the texts people write to set a model
up for a job ("You are a senior API designer specializing in ...", "# IDENTITY and PURPOSE", "Rules:",
"Do not output warnings") - in a chat, as a system prompt, or as an agent file that Claude Code reads.

Why: a jailbreak is very often written as a role prompt ("You are X. X has no rules. Rules: stay in
character ..."), and the benign training rows had almost no role prompts of the ordinary kind, so
the classifier learned the shape itself - "Act as", "You are an expert", a list of rules, "Your task
is to" - as attack vocabulary. 1,292 role prompts that awesome-chatgpt-prompts gained after 2023
(`scripts/unseen_chat.py --roles`, never trained on) were flagged 17.5-19.3 % as prompts and 8-10 %
as documents, almost all by the classifier alone.

Sources, three public collections of role prompts written for real use (clone them at these commits):

    git clone https://github.com/danielmiessler/fabric target/ext/fabric                    # 272f04dd
    git clone https://github.com/VoltAgent/awesome-claude-code-subagents \\
        target/ext/awesome-claude-code-subagents                                             # c9e51ec
    git clone https://github.com/wshobson/agents target/ext/agents                           # 367cb6a
    python3 scripts/benign_role_prompts.py target/ext/fabric target/ext/awesome-claude-code-subagents \\
        target/ext/agents --held-out target/ext/chat_unseen_roles.jsonl target/ext/chat_unseen.jsonl \\
        target/ext/chat_unseen_2.jsonl > target/benign_role_prompts.jsonl

(`--held-out` comes last: every path after it is a held-out JSONL file, made by scripts/unseen_chat.py
with `--more` and `--roles`.)

- fabric's patterns: every `data/patterns/*/system.md` (the system prompt of one task: summarise,
  extract wisdom, review code ...);
- VoltAgent's Claude Code subagents: every `categories/*/*.md` but the READMEs;
- wshobson's Claude Code plugins: every `plugins/*/agents/*.md` and `plugins/*/commands/*.md`.

Each file is cut at blank lines into rows of up to 1,200 characters (the packing of benign_ai_docs.py); its markdown, lists and front
matter stay as written (they are the shape being learned), fenced code blocks go (code is what
scripts/benign_code.py covers). A row's group (`subcategory`) is its file, so the trainer weighs a
file, not a row; at most MAX_PER_SOURCE rows per collection, kept by a hash of their text.

Left out: any row that names a jailbreak or quotes an injection (ATTACK_TALK: these files include
security reviewers that list attack strings, and a benign label on "ignore previous instructions"
would teach the opposite of what we want), and any row that repeats a held-out prompt (`--held-out`,
the test of scripts/benign_chat.py: the same text, or half of its six-word runs in one prompt), so the
unseen chat sets stay unseen.

Deterministic: files are read in sorted order and rows kept by a hash of their text, never at random.
"""
import json
import re
import sys
from pathlib import Path

# The script's folder is on sys.path when it runs.
from benign_ai_docs import rank  # a stable choice of rows when a collection has more than MAX_PER_SOURCE
from benign_ai_docs import rows_of as packed  # blocks packed into rows of 60..1,200 characters
from benign_chat import JAILBREAK, HeldOut
from external_sources import read_jsonl

MAX_PER_SOURCE = 300

ATTACK_TALK = re.compile(
    r"ignore\s+(?:all\s+|any\s+)?(?:the\s+)?(?:previous|prior|above|earlier)\s+(?:instructions|prompts?|rules)"
    r"|prompt[- ]injection|system prompt (?:leak|extraction)|reveal (?:your|the) system prompt",
    re.IGNORECASE,
)

FENCE = re.compile(r"^\s*(```|~~~)")


def without_code(text: str) -> str:
    """The text with its fenced code blocks replaced by a blank line."""
    out, inside = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            inside = not inside
            out.append("")
            continue
        if not inside:
            out.append(line.rstrip())
    return "\n".join(out)


def rows_of(text: str):
    """The file's blank-line separated blocks, as written, packed into rows."""
    blocks = (block.strip("\n") for block in re.split(r"\n\s*\n", without_code(text)))
    return packed(block for block in blocks if block.strip())


def files(fabric: Path, voltagent: Path, wshobson: Path):
    """(collection, path relative to its checkout) for every role prompt file, in sorted order."""
    found = [
        ("fabric", fabric, sorted(fabric.glob("data/patterns/*/system.md"))),
        ("voltagent", voltagent, sorted(p for p in voltagent.glob("categories/*/*.md") if p.name != "README.md")),
        ("wshobson", wshobson, sorted([*wshobson.glob("plugins/*/agents/*.md"), *wshobson.glob("plugins/*/commands/*.md")])),
    ]
    for name, root, paths in found:
        if not paths:
            sys.exit(f"benign_role_prompts: no role prompt files under {root} (see this script's docstring)")
        for p in paths:
            yield name, root, p


def main() -> int:
    args = sys.argv[1:]
    held = []
    if "--held-out" in args:
        i = args.index("--held-out")
        held, args = args[i + 1:], args[:i]
    if len(args) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    held_out = HeldOut(row["text"].strip() for f in held for row in read_jsonl(Path(f)))
    by_source, seen, dropped = {}, set(), {"attack talk": 0, "held out": 0}
    for name, root, path in files(*(Path(a) for a in args)):
        text = path.read_text(encoding="utf-8", errors="replace")
        rel = path.relative_to(root).as_posix()
        for row in rows_of(text):
            if row in seen:
                continue
            seen.add(row)
            if JAILBREAK.search(row) or ATTACK_TALK.search(row):
                dropped["attack talk"] += 1
                continue
            if row in held_out:
                dropped["held out"] += 1
                continue
            by_source.setdefault(name, []).append((rel, row))
    total = 0
    for name in sorted(by_source):
        rows = by_source[name]
        if len(rows) > MAX_PER_SOURCE:
            keep = {r for _, r in sorted(rows, key=lambda x: rank(x[1]))[:MAX_PER_SOURCE]}
            rows = [(rel, r) for rel, r in rows if r in keep]
        for rel, row in rows:
            print(json.dumps({"text": row, "label": "benign", "category": "role_prompts",
                              "subcategory": f"role_prompts/{name}/{rel}"}, ensure_ascii=False))
        total += len(rows)
        print(f"benign_role_prompts: {name}: {len(rows)} rows", file=sys.stderr)
    print(f"benign_role_prompts: {total} rows; dropped {dropped}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
