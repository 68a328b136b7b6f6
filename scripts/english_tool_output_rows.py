#!/usr/bin/env python3
"""Training rows of the classifier's weights for English tool outputs and documents
(`skills/classifier/model-tool-outputs.bin`; SKILL.md, "The weights for tool outputs").

Why: `model.bin` learned its attacks from the development corpora, which hold almost no order hidden in
what an agent reads (a product listing, an invoice, a calendar invite), and reads such orders at 0.00-0.15.
Weights that also learn them catch far more of them, but read role prompts and some chat as attacks
(README, stop 48), so they read only tool outputs and documents, where a prompt's wording is not at stake.

    python3 scripts/english_tool_output_rows.py > target/english_tool_output_rows.jsonl

Rows, in this order: the English rows of the hand-written sets a to af (`--through`) of
`scripts/multilingual_attacks.jsonl` that are injections or exfiltration (category `prompt_injection` or
`data_exfiltration`; their extraction and jailbreak rows are prompts, not what an agent reads), then the
English lookalikes of the same sets (`multilingual_benign.jsonl`, category chat_ml), then training set t11
of `scripts/english_training_sets.jsonl` (injections and exfiltration in what agents read, and its
ordinary texts). Later sets (ag onwards) are held out to measure the weights. Standard library only.
"""

import argparse
import json
import os
import sys

INJECTIONS = ("prompt_injection", "data_exfiltration")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--through", default="af", help="the last set read (default af); later sets are held out")
    args = p.parse_args()

    def order(name: str) -> tuple:
        return (len(name), name)  # a … z, then aa …

    last = order(args.through)
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.stdout

    def write(text: str, label: str, category: str) -> None:
        out.write(json.dumps({"text": text, "label": label, "category": category}, ensure_ascii=False) + "\n")

    for name, attacks in (("multilingual_attacks.jsonl", True), ("multilingual_benign.jsonl", False)):
        for line in open(os.path.join(here, name), encoding="utf-8"):
            row = json.loads(line)
            if row.get("lang") != "en" or order(row["set"]) > last:
                continue
            if attacks and row["category"] not in INJECTIONS:
                continue
            write(row["text"], row["label"], row["category"] if attacks else "chat_ml")
    for line in open(os.path.join(here, "english_training_sets.jsonl"), encoding="utf-8"):
        row = json.loads(line)
        if row["set"] == "t11":
            write(row["text"], row["label"], row["category"])


if __name__ == "__main__":
    main()
