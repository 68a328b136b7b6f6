#!/usr/bin/env python3
"""Developers' requests for shell commands, as benign training rows for the classifier, and the held-out
rest of them for measuring.

Why: the request a developer types to a coding agent most often is "find all the files … and print them",
"display all users", "execute `date` every second". The attack corpora say "print your instructions",
"display the system prompt", "execute this command", so the classifier had learned those verbs as attack
words and blocked 2.9 % of NL2Bash's requests (README, "Clean tool outputs": developers' requests).

NL2Bash (TellinaTool/nl2bash, MIT licence) pairs 12,607 bash one-liners collected from Stack Overflow and
tutorials with an English description written for each by freelance programmers (`data/bash/all.nl`,
`data/bash/all.cm`, line by line). This script keeps the distinct descriptions and splits them by the
SHA-256 of the text (first byte even: half `a`, odd: half `b`, as `scripts/external_sources.py` does):

- stdout: 500 rows of half `a` (the 500 whose SHA-256 hex sorts first), label `benign`, category
  `shell_request`; each its own group in training. 500 and not the whole half: with 1,000 or more the English
  chat of `scripts/unseen_chat.py` and Tensor Trust moved (README, "Clean tool outputs").
- `--test DIR`: `nl2bash_requests.jsonl`, every description of half `b` (never trained on), to scan as
  `user`, and `nl2bash_commands.jsonl`, every distinct command, to scan as the agent's own tool call
  (`model_output`); both benign.

    git clone https://github.com/TellinaTool/nl2bash target/ext/nl2bash     # 466c5fe
    python3 scripts/benign_shell.py target/ext/nl2bash --test target/ext > target/benign_shell.jsonl
"""
import argparse
import hashlib
import json
import sys
from pathlib import Path

# The same halves and the same output as the outside sources (this script's folder is on sys.path).
from external_sources import half, write

TRAINING_ROWS = 500


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("nl2bash", type=Path, help="a checkout of TellinaTool/nl2bash")
    ap.add_argument("--test", type=Path, help="write the held-out requests and the commands into this folder")
    args = ap.parse_args()
    folder = args.nl2bash / "data" / "bash"
    descriptions = (folder / "all.nl").read_text(encoding="utf-8", errors="replace").splitlines()
    commands = (folder / "all.cm").read_text(encoding="utf-8", errors="replace").splitlines()
    if len(descriptions) != len(commands):
        print(f"all.nl has {len(descriptions)} lines, all.cm {len(commands)}: not NL2Bash's pairs", file=sys.stderr)
        return 1

    requests, seen = [], set()
    for line, (text, command) in enumerate(zip(descriptions, commands), start=1):
        text = text.strip()
        if not text or text in seen:
            continue
        seen.add(text)
        requests.append({"text": text, "label": "benign", "category": "shell_request", "half": half(text),
                         "provenance": f"nl2bash data/bash/all.nl line {line} ({command.split(' ', 1)[0]})"})

    training = sorted((r for r in requests if r["half"] == "a"), key=lambda r: digest(r["text"]))[:TRAINING_ROWS]
    for row in training:
        out = {k: v for k, v in row.items() if k != "half"}
        sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
    print(f"training rows: {len(training)} of {sum(r['half'] == 'a' for r in requests)} in half a", file=sys.stderr)

    if args.test:
        args.test.mkdir(parents=True, exist_ok=True)
        write(args.test / "nl2bash_requests.jsonl", [r for r in requests if r["half"] == "b"])
        cmds, seen = [], set()
        for line, command in enumerate(commands, start=1):
            command = command.strip()
            if command and command not in seen:
                seen.add(command)
                cmds.append({"text": command, "label": "benign", "category": "shell_command", "half": half(command),
                             "provenance": f"nl2bash data/bash/all.cm line {line}"})
        write(args.test / "nl2bash_commands.jsonl", cmds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
