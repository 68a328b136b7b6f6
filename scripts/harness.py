#!/usr/bin/env python3
"""The evaluation harness: every labelled file this README measures, scanned by one binary, row by row.

Why: a change to a rule, a decoder or the classifier should be judged on everything at once, and a
rate alone hides which rows moved. This scans each file of FILES (below) with the source it is read
as, keeps every row's verdict, and compares two runs row by row.

    python3 scripts/harness.py run BINARY LABEL [--config swarm-configs/low-latency.yaml] [--out DIR]
                                               [--only NAME,NAME...] [--jobs N]
    python3 scripts/harness.py report LABEL [--out DIR] [--by-category]
    python3 scripts/harness.py diff LABEL_A LABEL_B [--out DIR]
    python3 scripts/harness.py list

`run` starts one long-lived `BINARY --config CFG scan --jsonl` per file, streams every row to it as
{"text": ..., "source": <the file's source>} (a writer thread feeds stdin while the main thread reads
stdout, so neither pipe fills up), and writes DIR/res_LABEL.json (DIR: target/harness): a header line,
then one JSON row per line with file, text, label, category, half / lang / set where the row has them,
flagged, score, the rule ids of its findings (`rules`) and whether a PII or secret finding was reported
(`pii`). A file that is not there is skipped and named. The binary's stderr goes to DIR/stderr_LABEL.log.

`report` prints per file: rows, attacks and the share flagged (TPR), benign rows and the share flagged
(FPR), and the same for half `b` rows where the file has halves (half `a` is the one looked at while
writing rules; half `b` stays an unseen estimate). It counts as `aimds eval` does: content-moderation
rows (`harmful_request`, `behavior_probe`) are left out of the attack counts (shown as `cm`), and a PII
row (`pii`, `pii_quasi`) is caught when a PII or secret finding is reported.

`diff` lists the rows whose flagged state or set of rule ids changed between two runs, grouped by
file, benign rows first, text cut at 200 characters. Rows are matched by file and text.

The data is not committed. Each entry of FILES says which command makes it; the commands are those of
the README (clones under target/ext at the commits it names; `../shared/corpus` beside the repository).
Standard library only.
"""

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor

# Sources as `scan --jsonl` spells them: user, tool_output, document, model_output, tool_call.
U, T, D, M = "user", "tool_output", "document", "model_output"

C = "../shared/corpus"
E = "target/ext"
EXT = f"python3 scripts/external_sources.py {E}/tensor-trust-data {E}/BIPIA {E}"

# (name, path, source, command that makes the file). A file read in two sources is two entries,
# the second named NAME@SOURCE.
FILES = [
    # The development corpora (not generated here; ../shared/corpus). The classifier trained on them.
    ("garak", f"{C}/garak.jsonl", U, "../shared/corpus"),
    ("garak@document", f"{C}/garak.jsonl", D, "../shared/corpus"),
    ("pyrit", f"{C}/pyrit.jsonl", U, "../shared/corpus"),
    ("deepteam", f"{C}/deepteam.jsonl", U, "../shared/corpus"),
    ("giskard", f"{C}/giskard.jsonl", U, "../shared/corpus"),
    ("rebuff", f"{C}/rebuff.jsonl", U, "../shared/corpus"),
    ("llamafirewall", f"{C}/llamafirewall.jsonl", U, "../shared/corpus"),
    ("nemoguardrails", f"{C}/nemoguardrails.jsonl", U, "../shared/corpus"),
    ("presidio_evaluator", f"{C}/presidio_evaluator.jsonl", U, "../shared/corpus"),
    ("chatterbot_corpus", f"{C}/chatterbot_corpus.jsonl", U, "../shared/corpus"),
    ("benign_documents", f"{C}/benign_documents.jsonl", U, "../shared/corpus"),
    ("benign_documents@document", f"{C}/benign_documents.jsonl", D, "../shared/corpus"),
    # Hand-written, committed (scripts/*.jsonl).
    ("chat_prompts", "scripts/chat_prompts.jsonl", U, "committed"),
    ("indirect_documents", "scripts/indirect_documents.jsonl", T, "committed"),
    ("agent_task_probe", "scripts/agent_task_probe.jsonl", T, "committed"),
    ("incident_probe", "scripts/incident_probe.jsonl", T, "committed"),
    ("multilingual_attacks", "scripts/multilingual_attacks.jsonl", T, "committed"),
    ("multilingual_benign", "scripts/multilingual_benign.jsonl", T, "committed"),
    ("multilingual_train", "scripts/multilingual_train.jsonl", T, "committed"),
    # Ordinary texts that reviewers wrote to break a round's rules (stop 45: 80 + 46 + 65; stop 46: 48).
    ("rule_review_lookalikes", "scripts/rule_review_lookalikes.jsonl", T, "committed"),
    # Ordinary text in ten languages, written after the multilingual weights (stop 45), nothing trained on it.
    ("multilingual_ordinary", "scripts/multilingual_ordinary.jsonl", T, "committed"),
    ("multilingual_ordinary@user", "scripts/multilingual_ordinary.jsonl", U, "committed"),
    # Ordinary text of thirteen Universal Dependencies treebanks' test splits (stop 46), nothing trained on it.
    ("ud_sentences", f"{E}/ud_sentences.jsonl", U, f"python3 scripts/ordinary_treebanks.py {E}/ud {E}"),
    ("ud_passages", f"{E}/ud_passages.jsonl", T, f"python3 scripts/ordinary_treebanks.py {E}/ud {E}"),
    # Benign training files (in sample for the classifier).
    ("benign_supplement", "target/benign_supplement.jsonl", U,
     "apt-get install fortunes fortunes-min; python3 scripts/benign_supplement.py > target/benign_supplement.jsonl"),
    ("benign_instructions", "target/benign_instructions.jsonl", U,
     "pip download --no-deps -d target/wheels lm_eval==0.4.13 fschat==0.2.36; "
     "python3 scripts/benign_instructions.py target/wheels > target/benign_instructions.jsonl"),
    ("benign_code", "target/benign_code.jsonl", T,
     "cargo fetch --locked; python3 scripts/benign_code.py Cargo.lock > target/benign_code.jsonl"),
    ("benign_ai_docs", "target/benign_ai_docs.jsonl", T,
     "pip download --no-deps -d target/wheels_ai openai==1.109.1 anthropic==0.69.0 langchain-core==0.3.79 "
     "mcp==1.16.0 llama-index-core==0.14.4; python3 scripts/benign_ai_docs.py target/wheels_ai > target/benign_ai_docs.jsonl"),
    ("benign_emails", "target/benign_emails.jsonl", T, "python3 scripts/benign_emails.py > target/benign_emails.jsonl"),
    ("benign_tables", "target/benign_tables.jsonl", T, "python3 scripts/benign_tables.py > target/benign_tables.jsonl"),
    ("benign_pages", "target/benign_pages.jsonl", T, "python3 scripts/benign_pages.py > target/benign_pages.jsonl"),
    ("benign_chat", "target/benign_chat.jsonl", U,
     f"python3 scripts/benign_chat.py {E}/InstructionWild {E}/self-instruct {E}/chat_unseen.jsonl > target/benign_chat.jsonl"),
    ("benign_shell", "target/benign_shell.jsonl", U,
     f"python3 scripts/benign_shell.py {E}/nl2bash --test {E} > target/benign_shell.jsonl"),
    ("benign_role_prompts", "target/benign_role_prompts.jsonl", U,
     f"python3 scripts/benign_role_prompts.py {E}/fabric {E}/awesome-claude-code-subagents {E}/agents "
     f"--held-out {E}/chat_unseen_roles.jsonl {E}/chat_unseen.jsonl {E}/chat_unseen_2.jsonl > target/benign_role_prompts.jsonl"),
    # Clean tool outputs and held-out SDK docs (README "Clean tool outputs").
    ("tool_outputs_1", "target/tool_outputs_1.jsonl", T, "python3 scripts/clean_tool_outputs.py 1 > target/tool_outputs_1.jsonl"),
    ("tool_outputs_2", "target/tool_outputs_2.jsonl", T, "python3 scripts/clean_tool_outputs.py 2 > target/tool_outputs_2.jsonl"),
    ("tool_outputs_3", "target/tool_outputs_3.jsonl", T, "python3 scripts/clean_tool_outputs.py 3 > target/tool_outputs_3.jsonl"),
    ("tool_outputs_registry", "target/tool_outputs_registry.jsonl", T,
     "python3 scripts/clean_tool_outputs.py registry > target/tool_outputs_registry.jsonl  # after cargo fetch"),
    ("ai_docs_eval", "target/ai_docs_eval.jsonl", T,
     "pip download --no-deps -d target/wheels_ai_eval google-genai==1.41.0 cohere==5.18.0 mistralai==1.9.10 groq==0.32.0; "
     "python3 scripts/benign_ai_docs.py --any target/wheels_ai_eval > target/ai_docs_eval.jsonl"),
    # Generated attacks.
    ("encoded_attacks", "target/encoded_attacks.jsonl", U, "python3 scripts/encoded_attacks.py > target/encoded_attacks.jsonl"),
    # Sources we never trained on (README): scripts/external_sources.py with the clones it names.
    ("tensor_trust_hijacking", f"{E}/tensor_trust_hijacking.jsonl", U, EXT),
    ("tensor_trust_extraction", f"{E}/tensor_trust_extraction.jsonl", U, EXT),
    ("bipia_contexts", f"{E}/bipia_contexts.jsonl", T, EXT),
    ("bipia_injected", f"{E}/bipia_injected.jsonl", T, EXT),
    ("agentdojo_outputs", f"{E}/agentdojo_outputs.jsonl", T, f"{EXT} {E}/agentdojo  # sequrity-ai/agentdojo"),
    ("agentdojo_injected", f"{E}/agentdojo_injected.jsonl", T, f"{EXT} {E}/agentdojo  # sequrity-ai/agentdojo"),
    ("llmail_satml", f"{E}/llmail_satml.jsonl", T, f"{EXT} --satml {E}/satml-llmail-injection"),
    ("jailbreakbench", f"{E}/jailbreakbench.jsonl", U, f"{EXT} --jailbreakbench {E}/jbb-artifacts"),
    ("cyberseceval", f"{E}/cyberseceval.jsonl", U, f"{EXT} --cyberseceval {E}/PurpleLlama"),
    ("cyberseceval_multilingual", f"{E}/cyberseceval_multilingual.jsonl", U, f"{EXT} --cyberseceval {E}/PurpleLlama"),
    ("deepinception", f"{E}/deepinception.jsonl", U, f"{EXT} --deepinception {E}/DeepInception"),
    ("xstest", f"{E}/xstest.jsonl", U,
     f"{EXT} --xstest {E}/JailbreakDefense_GoalPriority/quality_evaluation/xstest/xstest_v2_prompts.csv"),
    ("spider_sql", f"{E}/spider_sql.jsonl", M, f"{EXT} --spider {E}/spider"),
    ("spider_sql@tool_output", f"{E}/spider_sql.jsonl", T, f"{EXT} --spider {E}/spider"),
    ("spider_questions", f"{E}/spider_questions.jsonl", U, f"{EXT} --spider {E}/spider"),
    ("tldr_examples", f"{E}/tldr_examples.jsonl", U, f"{EXT} --tldr {E}/tldr"),
    ("tldr_pages", f"{E}/tldr_pages.jsonl", T, f"{EXT} --tldr {E}/tldr"),
    ("tldr_pages_translated", f"{E}/tldr_pages_translated.jsonl", T, f"{EXT} --tldr {E}/tldr"),
    ("loghub", f"{E}/loghub.jsonl", T, f"{EXT} --loghub {E}/loghub"),
    ("gptfuzz", f"{E}/gptfuzz.jsonl", U, f"{EXT} --gptfuzz {E}/GPTFuzz"),
    ("promptmap", f"{E}/promptmap.jsonl", U, f"{EXT} --promptmap {E}/promptmap"),
    ("greshake", f"{E}/greshake.jsonl", T, f"{EXT} --greshake {E}/llm-security"),
    ("wasp", f"{E}/wasp.jsonl", T, f"{EXT} --wasp {E}/wasp"),
    ("easyjailbreak", f"{E}/easyjailbreak.jsonl", U, f"{EXT} --gptfuzz {E}/GPTFuzz --easyjailbreak {E}/EasyJailbreak"),
    # DoomArena whole as tool outputs, as the earlier harness read it (its 14 customer turns have
    # source_hint "user"; read that way they give 2 more catches).
    ("doomarena", f"{E}/doomarena.jsonl", T, f"{EXT} --doomarena {E}/DoomArena"),
    # NL2Bash (README "Developers' requests").
    ("nl2bash_requests", f"{E}/nl2bash_requests.jsonl", U, f"python3 scripts/benign_shell.py {E}/nl2bash --test {E}"),
    ("nl2bash_commands", f"{E}/nl2bash_commands.jsonl", M, f"python3 scripts/benign_shell.py {E}/nl2bash --test {E}"),
    # GPTeacher's held-out role-play (README "Framed harm").
    ("roleplay_test", f"{E}/roleplay_test.jsonl", U,
     f"python3 scripts/harm_topics.py {E} --roleplay-test {E}/roleplay_test.jsonl > target/harm_topics.jsonl"),
    # Optimised adversarial suffixes (scripts/suffix_sources.py, eight clones).
    ("suffixes", f"{E}/suffixes.jsonl", U, f"python3 scripts/suffix_sources.py {E} > {E}/suffixes.jsonl"),
    # Ordinary chat and role prompts we never trained on (scripts/unseen_chat.py).
    ("chat_unseen", f"{E}/chat_unseen.jsonl", U,
     f"python3 scripts/unseen_chat.py {E}/Open-Assistant {E}/FastChat {E}/arena-hard-auto {E}"),
    ("chat_unseen_multilingual", f"{E}/chat_unseen_multilingual.jsonl", U,
     f"python3 scripts/unseen_chat.py ... --multilingual {E}/BELLE {E}/ja-vicuna {E}/FastChat-ja"),
    ("chat_unseen_2", f"{E}/chat_unseen_2.jsonl", U,
     f"python3 scripts/unseen_chat.py ... --more {E}/alpaca_eval {E}/WizardLM {E}/awesome_prompts_2023.csv target/benign_chat.jsonl"),
    ("chat_unseen_roles", f"{E}/chat_unseen_roles.jsonl", U,
     f"python3 scripts/unseen_chat.py ... --roles {E}/awesome_prompts_2026.csv {E}/awesome_prompts_2023.csv"),
    ("chat_unseen_roles@document", f"{E}/chat_unseen_roles.jsonl", D,
     f"python3 scripts/unseen_chat.py ... --roles {E}/awesome_prompts_2026.csv {E}/awesome_prompts_2023.csv"),
]

# The same sets as `aimds eval` (mcp-server/src/cli/corpus.rs), so that `report` counts as it does.
CONTENT_MODERATION = {"harmful_request", "behavior_probe"}
PII_CATEGORIES = {"pii", "pii_quasi"}
DEFAULT_OUT = "target/harness"


def read_rows(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                rows.append(json.loads(line))
    return rows


def scan_file(binary, config, name, path, source, log):
    """Scan one file with one `scan --jsonl` process; return (rows, errors, seconds)."""
    rows = read_rows(path)
    proc = subprocess.Popen([binary, "--config", config, "scan", "--jsonl"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log)

    def feed():
        try:
            for r in rows:
                line = json.dumps({"text": r.get("text", ""), "source": source}) + "\n"
                proc.stdin.write(line.encode("utf-8"))
            proc.stdin.close()
        except BrokenPipeError:
            pass

    start = time.time()
    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    out, errors = [], 0
    for i, r in enumerate(rows):
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{name}: the binary stopped after {i} of {len(rows)} rows")
        v = json.loads(line)
        res = {"file": name, "text": r.get("text", ""), "label": r.get("label"), "category": r.get("category")}
        for key, field in (("half", "half"), ("lang", "lang"), ("lang", "language"), ("set", "set")):
            if field in r and key not in res:
                res[key] = r[field]
        if "error" in v:
            errors += 1
            res.update(flagged=False, score=None, rules=[], pii=False, error=v["error"])
        else:
            findings = v.get("findings") or []
            res.update(flagged=bool(v.get("flagged")), score=v.get("score"),
                       rules=sorted({f.get("rule_id", "") for f in findings}),
                       pii=any(f.get("category") in ("pii", "secret") for f in findings))
        out.append(res)
    writer.join()
    proc.stdout.close()
    proc.wait()
    return out, errors, time.time() - start


def cmd_run(args):
    if not os.access(args.binary, os.X_OK):
        sys.exit(f"not an executable: {args.binary}")
    os.makedirs(args.out, exist_ok=True)
    only = set(args.only.split(",")) if args.only else None
    unknown = sorted((only or set()) - {e[0] for e in FILES})
    if unknown:
        sys.exit(f"no such entry: {', '.join(unknown)} (see `list`)")
    entries = [e for e in FILES if only is None or e[0] in only]
    missing = [e for e in entries if not os.path.exists(e[1])]
    for name, path, _, how in missing:
        print(f"missing, skipped: {name} ({path}; made by: {how})", file=sys.stderr)
    todo = [e for e in entries if os.path.exists(e[1])]
    log = open(os.path.join(args.out, f"stderr_{args.label}.log"), "wb")
    started, date = time.time(), time.strftime("%Y-%m-%d %H:%M:%S")

    def one(entry):
        name, path, source, _ = entry
        rows, errors, secs = scan_file(args.binary, args.config, name, path, source, log)
        print(f"{name:28} {source:12} {len(rows):7} rows {secs:7.1f} s"
              + (f"  {errors} scan errors" if errors else ""), file=sys.stderr, flush=True)
        return {"name": name, "path": path, "source": source, "rows": len(rows), "errors": errors,
                "seconds": round(secs, 2)}, rows

    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(one, todo))
    log.close()
    header = {"label": args.label, "binary": args.binary, "config": args.config,
              "date": date, "seconds": round(time.time() - started, 1),
              "files": [meta for meta, _ in results], "missing": [e[0] for e in missing]}
    path = os.path.join(args.out, f"res_{args.label}.json")
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        f.write(json.dumps(header, ensure_ascii=False) + "\n")
        for _, rows in results:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
    os.replace(path + ".tmp", path)
    total = sum(m["rows"] for m, _ in results)
    print(f"{len(results)} files, {total} rows, {header['seconds']} s -> {path}", file=sys.stderr)


def load(out, label):
    path = os.path.join(out, f"res_{label}.json")
    with open(path, encoding="utf-8") as f:
        header = json.loads(f.readline())
        rows = [json.loads(line) for line in f]
    return header, rows


def caught(r):
    return r["pii"] if r.get("category") in PII_CATEGORIES else r["flagged"]


def rates(rows):
    """(attacks, caught, content-moderation rows left out, benign, flagged benign)."""
    a = c = cm = b = fp = 0
    for r in rows:
        if r.get("label") == "attack":
            if r.get("category") in CONTENT_MODERATION:
                cm += 1
            else:
                a += 1
                c += caught(r)
        else:
            b += 1
            fp += r["flagged"]
    return a, c, cm, b, fp


def pct(n, d):
    return f"{100.0 * n / d:5.1f} %" if d else "      -"


def cmd_report(args):
    header, rows = load(args.out, args.label)
    by_file = defaultdict(list)
    for r in rows:
        by_file[r["file"]].append(r)
    print(f"res_{args.label}: {len(header['files'])} files, {len(rows)} rows; {header['binary']} "
          f"--config {header['config']}; {header['date']}")
    if header.get("missing"):
        print(f"missing (skipped): {', '.join(header['missing'])}")
    print(f"{'file':28} {'source':12} {'rows':>6} {'attacks':>7} {'TPR':>7} {'cm':>5} {'benign':>6} {'FPR':>7}"
          f" | {'half b: att':>11} {'TPR':>7} {'benign':>6} {'FPR':>7}")
    for meta in header["files"]:
        fr = by_file[meta["name"]]
        a, c, cm, b, fp = rates(fr)
        line = (f"{meta['name']:28} {meta['source']:12} {len(fr):6} {a:7} {pct(c, a)} {cm or '':>5} {b:6}"
                f" {pct(fp, b)}")
        hb = [r for r in fr if r.get("half") == "b"]
        if hb:
            ha, hc, _, hbn, hfp = rates(hb)
            line += f" | {ha:11} {pct(hc, ha)} {hbn:6} {pct(hfp, hbn)}"
        if meta.get("errors"):
            line += f"  ({meta['errors']} scan errors)"
        print(line)
        if args.by_category:
            cats = defaultdict(list)
            for r in fr:
                cats[(r.get("label"), str(r.get("category")))].append(r)
            for (label, cat), cr in sorted(cats.items()):
                n, k = len(cr), sum(caught(r) if label == "attack" else r["flagged"] for r in cr)
                print(f"    {label:7} {cat[:40]:40} {n:6}  flagged {pct(k, n)}")


def cmd_diff(args):
    ha, rows_a = load(args.out, args.label_a)
    hb, rows_b = load(args.out, args.label_b)
    # Match rows by (file, text, occurrence): a file regenerated between runs still lines up.
    def index(rows):
        seen, out = Counter(), {}
        for r in rows:
            key = (r["file"], r["text"])
            out[key + (seen[key],)] = r
            seen[key] += 1
        return out
    ia, ib = index(rows_a), index(rows_b)
    files_a, files_b = [m["name"] for m in ha["files"]], [m["name"] for m in hb["files"]]
    both = [n for n in files_a if n in set(files_b)]
    changed = defaultdict(list)
    for key, ra in ia.items():
        rb = ib.get(key)
        if rb is not None and (ra["flagged"] != rb["flagged"] or ra["rules"] != rb["rules"]):
            changed[key[0]].append((ra, rb))
    only_a = Counter(k[0] for k in ia if k not in ib)
    only_b = Counter(k[0] for k in ib if k not in ia)
    total = sum(len(v) for v in changed.values())
    print(f"{args.label_a} -> {args.label_b}: {len(both)} files in both runs; "
          f"{total} rows changed in {len(changed)} files")
    for label, names in ((args.label_a, [n for n in files_a if n not in set(files_b)]),
                         (args.label_b, [n for n in files_b if n not in set(files_a)])):
        if names:
            print(f"  files only in {label}: {', '.join(names)}")
    for name in both:
        if only_a[name] or only_b[name]:
            print(f"  {name}: {only_a[name]} rows only in {args.label_a}, {only_b[name]} only in {args.label_b}"
                  " (the file changed between the runs)")
    for name in both:
        pairs = changed.get(name)
        if not pairs:
            continue
        pairs.sort(key=lambda p: (p[0].get("label") != "benign", p[0].get("label") or ""))
        nf = sum(1 for a, b in pairs if a["flagged"] != b["flagged"])
        print(f"\n== {name}: {len(pairs)} rows ({nf} changed flag)")
        for ra, rb in pairs:
            fa, fb = ("F" if ra["flagged"] else "-"), ("F" if rb["flagged"] else "-")
            sa, sb = ra.get("score"), rb.get("score")
            score = f"{sa:.3f}->{sb:.3f}" if sa is not None and sb is not None else f"{sa}->{sb}"
            gone = sorted(set(ra["rules"]) - set(rb["rules"]))
            new = sorted(set(rb["rules"]) - set(ra["rules"]))
            half = f" half {ra['half']}" if ra.get("half") else ""
            print(f"  [{ra.get('label')}{half}] {fa}->{fb} {score} {ra.get('category')}"
                  + (f"  -{','.join(gone)}" if gone else "") + (f"  +{','.join(new)}" if new else ""))
            text = ra["text"].replace("\n", "\\n")
            print(f"      {text[:200]}{'…' if len(text) > 200 else ''}")


def cmd_list(_args):
    for name, path, source, how in FILES:
        there = "ok" if os.path.exists(path) else "MISSING"
        print(f"{name:28} {source:12} {there:7} {path}\n{'':28} # {how}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("run", help="scan every file with BINARY and save DIR/res_LABEL.json")
    p.add_argument("binary")
    p.add_argument("label")
    p.add_argument("--config", default="swarm-configs/low-latency.yaml")
    p.add_argument("--out", default=DEFAULT_OUT)
    p.add_argument("--only", help="comma-separated entry names (see `list`)")
    p.add_argument("--jobs", type=int, default=1, help="files scanned at once (default 1)")
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("report", help="per-file rates of a run")
    p.add_argument("label")
    p.add_argument("--out", default=DEFAULT_OUT)
    p.add_argument("--by-category", action="store_true")
    p.set_defaults(func=cmd_report)
    p = sub.add_parser("diff", help="rows whose flag or rule ids changed between two runs")
    p.add_argument("label_a")
    p.add_argument("label_b")
    p.add_argument("--out", default=DEFAULT_OUT)
    p.set_defaults(func=cmd_diff)
    p = sub.add_parser("list", help="the files, their sources, and whether they are there")
    p.set_defaults(func=cmd_list)
    args = ap.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
