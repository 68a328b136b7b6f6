#!/usr/bin/env python3
"""Tables as tools print them, for training the classifier: the benign side of pipes, padding and numbers.

Why: an agent's database, spreadsheet and search tools return tables (a SQL client's result, a
markdown table in a page, a CSV export). The training sources had almost none, and on the
Wikipedia tables of BIPIA (`scripts/external_sources.py`) the classifier flagged 2-8 in 1,000,
depending on the training run: wide padded columns and rows of figures read as the
obfuscation and "ASCII art" attacks of the corpora.

The cells come from data files Debian ships (package `iso-codes`: countries, currencies, languages,
scripts, subdivisions; `/etc/services`; tzdata's `zone1970.tab`), with made-up figure columns
(population, year, score, share, amount) added by hash; each table is printed in one of five
layouts: padded markdown, psql, MySQL's boxed style, CSV and tab-separated. A table is 4-30 rows.
Rows of one (source, layout) share a `subcategory`, so the trainer weighs the pair, not its copies.

    apt-get install iso-codes tzdata netbase      # usually present already
    python3 scripts/benign_tables.py > target/benign_tables.jsonl

Deterministic: choices are made by hashes, never at random.
"""
import hashlib
import json
import sys
from pathlib import Path

TABLES_PER_SOURCE_LAYOUT = 4
ISO = Path("/usr/share/iso-codes/json")


def h(s: str) -> int:
    return int(hashlib.sha256(s.encode()).hexdigest()[:12], 16)


def iso(name: str, key: str, fields: list, headers: list) -> tuple:
    data = json.loads((ISO / f"iso_{name}.json").read_text(encoding="utf-8"))[key]
    rows = [[str(e.get(f, "")) for f in fields] for e in data]
    return headers, rows


def services() -> tuple:
    rows = []
    for line in Path("/etc/services").read_text(encoding="utf-8").splitlines():
        body, _, comment = line.partition("#")
        parts = body.split()
        if len(parts) >= 2:
            rows.append([parts[0], parts[1], " ".join(parts[2:]), comment.strip()])
    return ["Service", "Port/Protocol", "Aliases", "Comment"], rows


def zones() -> tuple:
    rows = []
    for line in Path("/usr/share/zoneinfo/zone1970.tab").read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        parts = line.split("\t")
        rows.append((parts + ["", "", "", ""])[:4])
    return ["Countries", "Coordinates", "Time zone", "Comments"], rows


SOURCES = {
    "countries": lambda: iso("3166-1", "3166-1", ["alpha_2", "alpha_3", "numeric", "name"],
                             ["Code", "Alpha-3", "Numeric", "Country"]),
    "subdivisions": lambda: iso("3166-2", "3166-2", ["code", "name", "type", "parent"],
                                ["Code", "Name", "Type", "Parent"]),
    "currencies": lambda: iso("4217", "4217", ["alpha_3", "numeric", "name"], ["Currency", "Numeric", "Name"]),
    "languages": lambda: iso("639-2", "639-2", ["alpha_3", "alpha_2", "name", "bibliographic"],
                             ["ISO 639-2", "ISO 639-1", "Language", "Bibliographic"]),
    "scripts": lambda: iso("15924", "15924", ["alpha_4", "numeric", "name"], ["Script", "Number", "Name"]),
    "services": services,
    "zones": zones,
}

# Figure columns added to some tables: (header, formatter of a hash).
FIGURES = [
    ("Population", lambda n: f"{n % 90_000_000 + 10_000:,}"),
    ("Year", lambda n: str(1950 + n % 75)),
    ("Score", lambda n: f"{n % 40}–{(n // 40) % 40}"),
    ("Share (%)", lambda n: f"{(n % 10000) / 100:.2f}"),
    ("Amount (USD)", lambda n: f"{(n % 10_000_000) / 100:,.2f}"),
    ("Rank", lambda n: str(n % 200 + 1)),
    ("Attendance", lambda n: f"{n % 90_000 + 1_000:,}"),
    ("Result", lambda n: "W" if n % 2 else "L"),
]


def layout(style: str, headers: list, rows: list) -> str:
    widths = [max(len(x) for x in col) for col in zip(headers, *rows)]
    pad = lambda cells: [c.ljust(w) for c, w in zip(cells, widths)]
    if style == "markdown":
        lines = ["| " + " | ".join(pad(headers)) + " |", "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
        lines += ["| " + " | ".join(pad(r)) + " |" for r in rows]
    elif style == "psql":
        lines = [" " + " | ".join(pad(headers)), "-" + "-+-".join("-" * w for w in widths) + "-"]
        lines += [" " + " | ".join(pad(r)) for r in rows]
        lines.append(f"({len(rows)} rows)")
    elif style == "mysql":
        rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
        lines = [rule, "| " + " | ".join(pad(headers)) + " |", rule]
        lines += ["| " + " | ".join(pad(r)) + " |" for r in rows]
        lines += [rule, f"{len(rows)} rows in set (0.01 sec)"]
    elif style == "csv":
        q = lambda c: f'"{c}"' if ("," in c or '"' in c) else c
        lines = [",".join(q(c) for c in headers)] + [",".join(q(c) for c in r) for r in rows]
    else:
        lines = ["\t".join(headers)] + ["\t".join(r) for r in rows]
    return "\n".join(line.rstrip() for line in lines)


def main() -> None:
    for name, load in SOURCES.items():
        try:
            headers, rows = load()
        except OSError as e:
            sys.exit(f"benign_tables: {e} (see the docstring for the packages)")
        rows = [r for r in rows if any(r)]
        for style in ("markdown", "psql", "mysql", "csv", "tsv"):
            for t in range(TABLES_PER_SOURCE_LAYOUT):
                key = f"{name}|{style}|{t}"
                n = h(key)
                size = 4 + n % 27
                start = (n // 31) % max(1, len(rows) - size)
                chosen = rows[start:start + size]
                extra = [FIGURES[(n // 7 + i) % len(FIGURES)] for i in range(n % 3)]
                hs = headers + [x[0] for x in extra]
                body = [r + [f(h(f"{key}|{j}|{x}")) for x, f in extra] for j, r in enumerate(chosen)]
                text = layout(style, hs, body)
                print(json.dumps({"text": text, "label": "benign", "category": "table",
                                  "subcategory": f"table/{name}/{style}", "source": f"debian:{name}"},
                                 ensure_ascii=False))


if __name__ == "__main__":
    main()
