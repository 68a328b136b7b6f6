#!/usr/bin/env python3
"""Training rows of the classifier's weights for tool outputs and documents (`skills/classifier/model-tool-outputs.bin`;
SKILL.md, "The weights for tool outputs") and, with `--scripts`, of those for text in other scripts
(`model-scripts.bin`, stop 53). Named english_tool_output_rows.py until stop 53.

Why: `model.bin` learned its attacks from the development corpora, which hold almost no order hidden in
what an agent reads (a product listing, an invoice, a calendar invite), and reads such orders at 0.00-0.15.
Weights that also learn them catch far more of them, but read role prompts and some chat as attacks
(README, stop 48), so at first they read only tool outputs and documents. At stop 51 `model.bin` was
trained with the default rows (the same weights then), and prompts are read at their own point, 0.91.
Since stop 52 the two files differ again: the tool outputs' weights learn more rows than the prompts'.

    # model.bin's rows (sets a-ap, t11)
    python3 scripts/tool_output_rows.py > target/english_tool_output_rows.jsonl
    # model-tool-outputs.bin's rows (since stop 52: sets a-bd, t11, t16-t21 and t26-t29)
    python3 scripts/tool_output_rows.py --through bd \\
        --training t11,t16,t17,t18,t19,t20,t21,t26,t27,t28,t29 > target/tool_output_rows.jsonl
    # model-scripts.bin's rows (stop 53: those, and the non-Latin-script rows of sets a-bd and of the
    # training sets t1-t10, t30-t43, c1-c11 and j1-j9)
    python3 scripts/tool_output_rows.py --through bd \\
        --training t11,t16,t17,t18,t19,t20,t21,t26,t27,t28,t29 \\
        --scripts t1,t2,t3,t4,t5,t6,t7,t8,t9,t10,t30,t31,t32,t33,t34,t35,t36,t37,t38,t39,t40,t41,t42,t43,c1,c2,c3,c4,c5,c6,c7,c8,c9,c10,c11,j1,j2,j3,j4,j5,j6,j7,j8,j9 \\
        > target/script_rows.jsonl

Rows, in this order: the English rows of the hand-written sets a to ap (`--through`) of
`scripts/multilingual_attacks.jsonl` that are injections or exfiltration (category `prompt_injection` or
`data_exfiltration`), then the English lookalikes of the same sets (`multilingual_benign.jsonl`, category
chat_ml), then training set t11 of `scripts/english_training_sets.jsonl` (injections and exfiltration in
what agents read, and its ordinary texts), then the same sets' English jailbreaks and extractions
(categories `jailbreak` and `system_prompt_extraction`: pasted into a page or a file, they are what an
agent reads too; added at stop 50 after the rest, which keeps its order), then any other training sets
named by `--training`, in the order given (t16-t21 and t26-t29, written at stop 52: injections,
extractions and jailbreaks planted in ten kinds of carrier, and ordinary texts of the same carriers). Later sets are held
out to measure the weights.

With `--scripts` (stop 53), last of all: the rows written in Chinese, Japanese, Korean, Arabic, Persian,
Hebrew, Hindi, Thai and Greek (`NON_LATIN`) of sets a to `--through`, attacks of every category and
lookalikes, then those of the named training sets of `scripts/multilingual_training_sets.jsonl`, in the
order given. Text in those scripts is not read by the multilingual weights (`language.rs`), and before stop 53
no weights had learned an attack written in them: these rows make the weights for other scripts
(`skills/classifier/model-scripts.bin`), which read such text where the tool outputs' weights would.
Words of Chinese and Japanese are read one character at a time (`aimds train --cjk-words`). Standard library only.
"""

import argparse
import sys

from multilingual_classifier_rows import hand_written, order

INJECTIONS = ("prompt_injection", "data_exfiltration")
PROMPTS = ("jailbreak", "system_prompt_extraction")
# Scripts that language.rs leaves to model.bin and these weights: Chinese, Japanese, Korean, Arabic,
# Persian, Hebrew, Hindi, Thai, Greek.
NON_LATIN = ("zh", "ja", "ko", "ar", "fa", "he", "hi", "th", "el")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--through", default="ap", help="the last set read (default ap); later sets are held out")
    p.add_argument("--training", default="t11",
                   help="comma-separated training sets of english_training_sets.jsonl, t11 first (default t11); "
                        "any other is written last, after the sets' jailbreaks and extractions")
    p.add_argument("--scripts", default="",
                   help="comma-separated training sets of multilingual_training_sets.jsonl whose rows in the nine "
                        "scripts of NON_LATIN are read last, after the same scripts' rows of sets a-THROUGH (default: none, "
                        "English only)")
    args = p.parse_args()
    training = [name.strip() for name in args.training.split(",") if name.strip()]
    scripts = [name.strip() for name in args.scripts.split(",") if name.strip()]
    if training[:1] != ["t11"]:
        raise SystemExit("--training must start with t11")
    last = order(args.through)

    def english_of_sets(row: dict) -> bool:
        return row.get("lang") == "en" and order(row["set"]) <= last

    out = sys.stdout
    hand_written("multilingual_attacks.jsonl",
                 lambda row: english_of_sets(row) and row["category"] in INJECTIONS, out)
    hand_written("multilingual_benign.jsonl", english_of_sets, out)
    hand_written("english_training_sets.jsonl", lambda row: row["set"] == "t11", out)
    hand_written("multilingual_attacks.jsonl",
                 lambda row: english_of_sets(row) and row["category"] in PROMPTS, out)
    for name in training[1:]:
        hand_written("english_training_sets.jsonl", lambda row, name=name: row["set"] == name, out)
    if scripts:
        def non_latin_of_sets(row: dict) -> bool:
            return row.get("lang") in NON_LATIN and order(row["set"]) <= last

        hand_written("multilingual_attacks.jsonl", non_latin_of_sets, out, with_cjk=True)
        hand_written("multilingual_benign.jsonl", non_latin_of_sets, out, with_cjk=True)
        for name in scripts:
            hand_written("multilingual_training_sets.jsonl",
                         lambda row, name=name: row["set"] == name and row.get("lang") in NON_LATIN, out, with_cjk=True)


if __name__ == "__main__":
    main()
