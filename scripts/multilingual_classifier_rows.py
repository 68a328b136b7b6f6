#!/usr/bin/env python3
"""Training rows of the classifier's second weights, the ones that read text in other languages
(`skills/classifier/model-multilingual.bin`; skills/classifier/SKILL.md, "The multilingual weights").

    apt-get download fortunes-br fortunes-de fortunes-es fortunes-it fortunes-pl fortunes-ru
    for d in fortunes-*.deb; do dpkg-deb -x "$d" target/fortunes-ml; done
    python3 scripts/multilingual_classifier_rows.py target/fortunes-ml > target/multilingual_classifier_rows.jsonl

Three parts, in this order:

  * the hand-written multilingual sets (scripts/multilingual_attacks.jsonl and multilingual_benign.jsonl)
    up to set ba only (--through, default ba since stop 52, z before: later sets, bb onwards, are held out to
    measure the weights) and
    without the Chinese, Japanese and Korean rows: the shipped weights read those languages without a
    false positive on 1,240 unseen prompts, and weights that learned the sets' CJK attacks flagged 19
    of them (polite "…してください" requests). Attacks keep their category, lookalikes become chat_ml;
  * ordinary text in six of the sets' languages, so that a language is not learned as a sign of an
    attack: 800 Debian fortunes each in German, Spanish, Italian, Polish, Russian and Brazilian
    Portuguese (entries of 20-400 characters, drawn with one seeded generator). Without them the weights
    flagged 15 of 153 Portuguese chat lines of chatterbot; with them, 2;
  * the training sets t1-t10 (scripts/multilingual_training_sets.jsonl, again without Chinese,
    Japanese and Korean rows: 1,100 of their 1,250 texts; the file's later sets are not read), which ten helpers wrote for training only,
    none of them having read a rule or a set (stop 48): indirect injections in tool outputs and in
    what coding and browsing agents read, exfiltration and tool hijacking, personas, framed and long
    jailbreaks, extraction and overrides, casual registers, ten more languages (sv cs ro hu el uk id
    vi ar hi; the Greek, Arabic and Hindi rows are kept although language.rs sends those scripts to
    model.bin), and ordinary texts beside each (lookalikes and plain ones; one set is two thirds
    ordinary). The sets that measure the weights (aa onwards) came from other helpers, with set p's
    brief.

The fortunes are read from the packages' files extracted into a folder, not from an installed
/usr/share/games/fortunes: installing fortunes-br and fortunes-it adds files there that
scripts/benign_supplement.py would read into the shipped weights' training.
"""
import argparse
import json
import os
import random
import re
import sys

CJK = {"zh", "ja", "ko"}
# The training sets these weights learn. The file holds more since stop 53 (every set but t1-t10: written in
# Chinese, Japanese, Korean and six other non-Latin scripts for the weights for other scripts; tool_output_rows.py).
FIRST_TRAINING_SETS = {f"t{k}" for k in range(1, 11)}
PER_LANGUAGE = 800
SEED = 45
HERE = os.path.dirname(os.path.abspath(__file__))


def order(name: str) -> tuple:
    """A set's place: a … z, then aa …"""
    return (len(name), name)


def hand_written(name: str, keep, out, with_cjk: bool = False) -> None:
    """The rows of a hand-written file of this folder that `keep` takes, without CJK unless `with_cjk`, to
    `out`: attacks keep their category, lookalikes and ordinary texts become chat_ml. (The rows script of
    the weights for tool outputs, `tool_output_rows.py`, reads its files with it too.)"""
    for line in open(os.path.join(HERE, name), encoding="utf-8"):
        row = json.loads(line)
        if (row.get("lang") in CJK and not with_cjk) or not keep(row):
            continue
        category = row["category"] if row["label"] == "attack" else "chat_ml"
        out.write(json.dumps({"text": row["text"], "label": row["label"], "category": category},
                             ensure_ascii=False) + "\n")
# Where each language's fortunes lie inside the extracted packages (usr/share/games/fortunes/...).
ITALIAN_ROOT = ["definizioni", "formiche", "italia", "itatrek", "leggi", "luttazzi", "paolotedeschi", "norm"]


def fortune_files(root: str, lang: str) -> list:
    if lang == "pt":
        return [os.path.join(root, "brasil")]
    files = [os.path.join(root, lang, f) for f in os.listdir(os.path.join(root, lang))]
    if lang == "it":
        files += [os.path.join(root, f) for f in ITALIAN_ROOT]
    return files


def entries(path: str):
    raw = open(path, "rb").read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    for entry in re.split(r"\n%\n", text):
        entry = entry.strip()
        if 20 <= len(entry) <= 400:
            yield entry


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("fortunes", help="folder the fortunes-* packages were extracted into (dpkg-deb -x)")
    p.add_argument("--through", default="ba",
                   help="the last set read (default ba, as the shipped weights since stop 52); later sets are held out "
                        "(the training sets t1-t10 are always read)")
    args = p.parse_args()

    last = order(args.through)
    out = sys.stdout
    for name in ("multilingual_attacks.jsonl", "multilingual_benign.jsonl"):
        hand_written(name, lambda row: order(row["set"]) <= last, out)
    root = os.path.join(args.fortunes, "usr/share/games/fortunes")
    rng = random.Random(SEED)
    for lang in ("de", "es", "it", "pl", "ru", "pt"):
        found = []
        for path in sorted(fortune_files(root, lang)):
            if path.endswith((".dat", ".u8")) or os.path.isdir(path) or not os.path.exists(path):
                continue
            found.extend(entries(path))
        found = sorted(set(found))
        rng.shuffle(found)
        for entry in found[:PER_LANGUAGE]:
            out.write(json.dumps({"text": entry, "label": "benign", "category": "fortune", "lang": lang},
                                 ensure_ascii=False) + "\n")
    hand_written("multilingual_training_sets.jsonl", lambda row: row["set"] in FIRST_TRAINING_SETS, out)


if __name__ == "__main__":
    main()
