#!/usr/bin/env python3
"""How many rows of some hand-written sets one binary flags, by set and category.

Why: each stop's sets are committed unread and measured once a change is made; the harness reads
`multilingual_attacks.jsonl` as one file, and the figures the README gives per set come from here.

    python3 scripts/set_scan.py aq,ar,as,at,au [--source tool_output] [--binary target/release/aimds]
                                              [--config swarm-configs/low-latency.yaml] [--lang en]

Rows of the named sets of `scripts/multilingual_attacks.jsonl` (attacks) and
`scripts/multilingual_benign.jsonl` (lookalikes and ordinary texts, shown as `benign`) are streamed to
one `BINARY --db :memory: --config CONFIG scan --jsonl` as {"text", "source"} (a throw-away memory,
so a config with the logger on writes nothing of yours); it prints flagged / rows per set and category,
then per set. An answer that is an error (a misspelt `--source`) stops it. Standard library only.
"""

import argparse
import json
import os
import subprocess
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("sets", help="comma-separated set names, e.g. aq,ar,as,at")
    p.add_argument("--source", default="tool_output")
    p.add_argument("--binary", default="target/release/aimds")
    p.add_argument("--config", default="swarm-configs/low-latency.yaml")
    p.add_argument("--lang", help="comma-separated languages to keep (default: all)")
    args = p.parse_args()
    sets = {name.strip() for name in args.sets.split(",") if name.strip()}
    langs = set(args.lang.split(",")) if args.lang else None
    rows = []
    for name, attack in (("multilingual_attacks.jsonl", True), ("multilingual_benign.jsonl", False)):
        with open(os.path.join(HERE, name), encoding="utf-8") as f:
            for line in f:
                row = json.loads(line)
                if row.get("set") in sets and (langs is None or row.get("lang") in langs):
                    rows.append((row, attack))
    missing = sorted(sets - {r["set"] for r, _ in rows})
    if missing:
        raise SystemExit(f"no rows for set(s) {', '.join(missing)}")
    feed = "".join(json.dumps({"text": r["text"], "source": args.source}) + "\n" for r, _ in rows)
    out = subprocess.run([args.binary, "--db", ":memory:", "--config", args.config, "scan", "--jsonl"],
                         input=feed, capture_output=True, text=True, check=True).stdout.splitlines()
    if len(out) != len(rows):
        raise SystemExit(f"{len(rows)} rows sent, {len(out)} answers")
    flagged, total = Counter(), Counter()
    for (row, attack), answer in zip(rows, out):
        verdict = json.loads(answer)
        if "error" in verdict:
            raise SystemExit(f"the binary answered an error: {verdict['error']}")
        key = (row["set"], row["category"] if attack else "benign")
        total[key] += 1
        flagged[key] += bool(verdict.get("flagged"))
    for key in sorted(total):
        print(f"{key[0]:4} {key[1]:26} {flagged[key]:4} / {total[key]}")
    for s in sorted(sets):
        a = [k for k in total if k[0] == s and k[1] != "benign"]
        b = [k for k in total if k[0] == s and k[1] == "benign"]
        print(f"{s:4} attacks {sum(flagged[k] for k in a)} / {sum(total[k] for k in a)}, "
              f"benign {sum(flagged[k] for k in b)} / {sum(total[k] for k in b)}")


if __name__ == "__main__":
    main()
