#!/usr/bin/env python3
"""Ordinary text in thirteen languages from Universal Dependencies treebanks, as benign JSONL.

Why: the false-positive aim is about ordinary multilingual text, and what we had of it was chat
(chatterbot), a few hundred hand-written texts and translated help pages. Treebanks are real text
that people wrote for people: news, Wikipedia, blogs, reviews, tweets (Italian PoSTWITA), social
media and fiction (Russian Taiga), web forums and e-mail (English EWT). Nothing of AIMDS was written
or trained on them. Their licences (CC BY-SA, and CC BY-NC-SA for PoSTWITA and Polish PDB) allow this
use; the data is not committed.

    # each treebank's dev and test files, e.g. from a clone:
    git clone --depth 1 https://github.com/UniversalDependencies/UD_Spanish-GSD target/ext/ud/UD_Spanish-GSD
    python3 scripts/ordinary_treebanks.py target/ext/ud target/ext [--split test|dev]

Treebanks read (the commits stop 46 read are in README "Ordinary text from treebanks"): UD_Spanish-GSD,
UD_French-GSD, UD_German-GSD, UD_Portuguese-GSD, UD_Italian-PoSTWITA, UD_Dutch-Alpino, UD_Polish-PDB,
UD_Turkish-IMST, UD_Russian-Taiga, UD_Chinese-GSDSimp, UD_Japanese-GSD, UD_Korean-GSD, UD_English-EWT.

It writes, into the output folder (`SPLIT` = test unless `--split dev`):

- `ud_sentences[_dev].jsonl`: every distinct sentence (`# text = ...`) of each treebank's SPLIT file
  of at least 12 characters; scan with `--source user`.
- `ud_passages[_dev].jsonl`: the same sentences joined in their order, five at a time (a new document
  starts a new passage), as the paragraphs a tool returns; scan with `--source tool_output`.

Rows: text, label `benign`, category `ud/<treebank>`, lang (ISO 639-1). Standard library only.
"""

import argparse
import json
from pathlib import Path

# Treebank folder → language. Only these are read; any other folder is ignored.
TREEBANKS = {
    "UD_Spanish-GSD": "es",
    "UD_French-GSD": "fr",
    "UD_German-GSD": "de",
    "UD_Portuguese-GSD": "pt",
    "UD_Italian-PoSTWITA": "it",
    "UD_Dutch-Alpino": "nl",
    "UD_Polish-PDB": "pl",
    "UD_Turkish-IMST": "tr",
    "UD_Russian-Taiga": "ru",
    "UD_Chinese-GSDSimp": "zh",
    "UD_Japanese-GSD": "ja",
    "UD_Korean-GSD": "ko",
    "UD_English-EWT": "en",
}
MIN_CHARS = 12
PER_PASSAGE = 5


def sentences(path: Path):
    """Yield (text, starts_new_document) for each sentence of a CoNLL-U file."""
    new_doc = False
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("# newdoc"):
                new_doc = True
            elif line.startswith("# text = "):
                yield line[len("# text = "):].rstrip("\n"), new_doc
                new_doc = False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("treebanks", type=Path, help="folder holding the UD_* folders")
    parser.add_argument("out", type=Path, help="output folder")
    parser.add_argument("--split", choices=["test", "dev"], default="test")
    args = parser.parse_args()

    suffix = "" if args.split == "test" else "_dev"
    sentence_rows, passage_rows = [], []
    seen = set()
    for name, lang in TREEBANKS.items():
        files = sorted((args.treebanks / name).glob(f"*-ud-{args.split}.conllu"))
        if not files:
            print(f"{name}: no {args.split} file, skipped")
            continue
        category = f"ud/{name[3:]}"
        count_sentences = count_passages = 0
        for path in files:
            passage = []

            def flush():
                nonlocal count_passages
                if passage:
                    joiner = "" if lang in ("zh", "ja") else " "
                    passage_rows.append({"text": joiner.join(passage), "label": "benign",
                                         "category": category, "lang": lang})
                    count_passages += 1
                    passage.clear()

            for text, new_doc in sentences(path):
                if new_doc:
                    flush()
                text = text.strip()
                if len(text) < MIN_CHARS or text in seen:
                    continue
                seen.add(text)
                sentence_rows.append({"text": text, "label": "benign", "category": category, "lang": lang})
                count_sentences += 1
                passage.append(text)
                if len(passage) == PER_PASSAGE:
                    flush()
            flush()
        print(f"{name}: {count_sentences} sentences, {count_passages} passages")

    args.out.mkdir(parents=True, exist_ok=True)
    for file_name, rows in ((f"ud_sentences{suffix}.jsonl", sentence_rows),
                            (f"ud_passages{suffix}.jsonl", passage_rows)):
        with open(args.out / file_name, "w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
        print(f"wrote {args.out / file_name}: {len(rows)} rows")


if __name__ == "__main__":
    main()
