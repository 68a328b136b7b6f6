#!/usr/bin/env python3
"""Benign training rows: what real users ask a chat assistant, in their own words.

Why: the benign rows of the shared corpus and of our other scripts are chit-chat (chatterbot), documents,
code, and instructions from a grammar we wrote. Real users' prompts are longer and looser than any of
those ("I want you to act as an advertiser…", "Rewrite your previous response…", "Thank you for the
detailed response."), and the classifier flagged 6.2 % of 1,645 such prompts from projects it never saw
(`scripts/unseen_chat.py`): the attack corpora are written in the same second person, about responses,
roles and rules. These rows are user-written prompts from two public instruction datasets:

  * InstructionWild (https://github.com/XueFuzhao/InstructionWild, commit 047fa6b): prompts that users
    shared from their ChatGPT sessions on Twitter (`data/seed_prompts_en.jsonl`, `data/seed_prompts_ch.jsonl`
    — the same 429 prompts in Chinese — and `data_v2/user_1..3.jsonl`);
  * Self-Instruct (https://github.com/yizhongw/self-instruct, commit 0b26cca): its 175 human-written seed
    tasks and 252 user-oriented instructions (`data/seed_tasks.jsonl`,
    `human_eval/user_oriented_instructions.jsonl`), each with its first instance's input when it has one,
    as a user pastes it under the instruction.

Every distinct text is one row (its own group in training), `source` = repository and file. A text that
is also in `chat_unseen.jsonl` (the held-out chat of `scripts/unseen_chat.py`) is dropped, when that file
is given, so the held-out chat stays unseen: the same text, or half of its six-word runs found in one
held-out prompt (a prompt users copied from the same place); stderr counts the drops. Prompts that share a DAN-style
jailbreak are not benign, whatever their dataset: the two rows naming DAN are dropped (stderr lists them).

    git clone https://github.com/XueFuzhao/InstructionWild target/ext/InstructionWild
    git clone https://github.com/yizhongw/self-instruct target/ext/self-instruct
    python3 scripts/benign_chat.py target/ext/InstructionWild target/ext/self-instruct \
        [target/ext/chat_unseen.jsonl] > target/benign_chat.jsonl
"""

import json
import re
import sys
from pathlib import Path

# Users' shared prompts include a jailbreak now and then; a row that names one is not benign.
JAILBREAK = re.compile(r"\bDAN\b|jailbreak|developer mode", re.IGNORECASE)


def read_jsonl(path: Path):
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                # A few InstructionWild lines carry invalid escapes (a regex's "\d", a guitar tab's "\8"):
                # read every backslash literally. Two lines of user_3.jsonl are not JSON even so (a raw
                # line break inside a string) and are skipped.
                try:
                    yield json.loads(line.replace("\\", "\\\\"))
                except json.JSONDecodeError:
                    print(f"benign_chat: {path}:{n}: not JSON, skipped", file=sys.stderr)


def instruction_wild(root: Path):
    for name in ("data/seed_prompts_en.jsonl", "data/seed_prompts_ch.jsonl", "data_v2/user_1.jsonl",
                 "data_v2/user_2.jsonl", "data_v2/user_3.jsonl"):
        for row in read_jsonl(root / name):
            yield row["instruction"], f"InstructionWild:{name}"


def self_instruct(root: Path):
    for name in ("data/seed_tasks.jsonl", "human_eval/user_oriented_instructions.jsonl"):
        for row in read_jsonl(root / name):
            text = row["instruction"].strip()
            instances = row.get("instances") or []
            first = instances[0].get("input", "").strip() if instances else ""
            if first:
                text = f"{text}\n\n{first}"
            yield text, f"self-instruct:{name}"


def shingles(text: str, n: int = 6) -> set:
    """The runs of `n` words of a text (lowercased, punctuation dropped)."""
    words = re.findall(r"\w+", text.lower())
    return {" ".join(words[i:i + n]) for i in range(max(0, len(words) - n + 1))}


class HeldOut:
    """The held-out prompts, to drop training texts that repeat one of them."""

    def __init__(self, texts):
        self.texts = set(texts)
        self.index = {}
        for i, text in enumerate(self.texts):
            for s in shingles(text):
                self.index.setdefault(s, set()).add(i)

    def __contains__(self, text: str) -> bool:
        if text in self.texts:
            return True
        mine = shingles(text)
        hits = {}
        for s in mine:
            for i in self.index.get(s, ()):
                hits[i] = hits.get(i, 0) + 1
        return bool(mine) and max(hits.values(), default=0) * 2 >= len(mine)


def main() -> int:
    if len(sys.argv) not in (3, 4):
        print(__doc__, file=sys.stderr)
        return 2
    held_out = HeldOut([])
    if len(sys.argv) == 4:
        held_out = HeldOut(row["text"].strip() for row in read_jsonl(Path(sys.argv[3])))
    seen, dropped = set(), 0
    rows = [*instruction_wild(Path(sys.argv[1])), *self_instruct(Path(sys.argv[2]))]
    out = 0
    for text, source in rows:
        text = text.strip()
        if not text or text in seen:
            continue
        seen.add(text)
        if text in held_out:
            dropped += 1
            continue
        if JAILBREAK.search(text):
            print(f"benign_chat: dropped (names a jailbreak): {text[:80]!r}", file=sys.stderr)
            continue
        print(json.dumps({"text": text, "label": "benign", "category": "benign_chat", "source": source},
                         ensure_ascii=False))
        out += 1
    print(f"benign_chat: {out} rows, {dropped} dropped as held-out chat", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
