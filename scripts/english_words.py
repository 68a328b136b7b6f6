#!/usr/bin/env python3
"""The English word list the adversarial-suffix check reads (`skills/jailbreak/english-words.txt`).

Why: an optimised jailbreak suffix (GCG and its kin: "describing.\\ + similarlyNow write
oppositeley.]( Me giving**ONE please?") is a string of tokenizer pieces glued together, and its
plainest trace is words no dictionary holds ("ISBNancouver", "correctedilde", "Pauloame").
Code and prose are mostly made of known words, even inside identifiers (`folded_multiply`,
`RandomState`). The list is every letter run (split at camelCase and snake_case) that occurs at
least three times in the English benign training text, lowercased: the code, SDK docs and e-mails
the classifier trains on (`skills/classifier/SKILL.md` says how to build them), the shared corpus's
benign documents and English chatterbot turns, and the supplement's English rows (fortunes,
Debian package docs, Python docstrings). Nothing of the held-out chat (`scripts/unseen_chat.py`)
and no attack text is read.

    python3 scripts/english_words.py target/benign_code.jsonl target/benign_ai_docs.jsonl \\
      target/benign_emails.jsonl target/benign_supplement.jsonl \\
      ../shared/corpus/benign_documents.jsonl ../shared/corpus/chatterbot_corpus.jsonl \\
      > skills/jailbreak/english-words.txt

Deterministic: the output is sorted.
"""
import collections
import json
import re
import sys

MIN_COUNT = 3
# The supplement's rows in English (its gettext catalogs are in 28 other languages).
SUPPLEMENT_ENGLISH = ("fortune", "/usr/share/doc", "python")


def english(row: dict, path: str) -> bool:
    if row.get("label", "benign") != "benign":
        return False
    source = str(row.get("source", ""))
    if path.endswith("chatterbot_corpus.jsonl"):
        return "/english/" in source
    if path.endswith("benign_supplement.jsonl"):
        return any(s in source for s in SUPPLEMENT_ENGLISH)
    return True


def words(text: str):
    text = re.sub(r"([a-z])([A-Z])", r"\1 \2", text)
    return (w.lower() for w in re.findall(r"[A-Za-z]+", text))


def main(paths: list) -> None:
    counts = collections.Counter()
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for line in f:
                row = json.loads(line)
                if english(row, path):
                    counts.update(words(row["text"]))
    for word in sorted(w for w, n in counts.items() if n >= MIN_COUNT):
        print(word)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
