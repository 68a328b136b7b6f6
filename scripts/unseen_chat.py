#!/usr/bin/env python3
"""Ordinary chat that nothing of ours was trained on or tuned against, as labelled JSONL for `aimds eval`.

The ≤ 1 % false-positive aim for ordinary chat is judged on chat we do not have; these are real users'
prompts from three public projects, kept out of every training file (`scripts/benign_chat.py` drops any
text that is also here). The data is not committed; clone the repositories and point this script at them:

    git clone https://github.com/LAION-AI/Open-Assistant target/ext/Open-Assistant       # f1e6ed9
    git clone https://github.com/lm-sys/FastChat target/ext/FastChat                     # 0e6d3e4
    git clone https://github.com/lm-sys/arena-hard-auto target/ext/arena-hard-auto       # efc012e
    python3 scripts/unseen_chat.py target/ext/Open-Assistant target/ext/FastChat target/ext/arena-hard-auto target/ext \
        [--multilingual target/ext/BELLE target/ext/ja-vicuna target/ext/FastChat-ja]

It writes `chat_unseen.jsonl` into the output folder: every distinct user turn ("prompter" message) of
Open Assistant's manual-evaluation files (`prompt_lottery_en_250_text.jsonl`, the conversation trees of
`en_100_message.jsonl`) and of its backend's realistic seed conversations; both turns of MT-bench's 80
questions and the 80 Vicuna-bench questions (FastChat's `llm_judge/data`); and the 500 Chatbot Arena
prompts of Arena-Hard v0.1. All benign, category `benign_chat`, `subcategory` = the file, and a `half`
(`a` or `b`, from a hash of the text): look only at half `a` when studying false positives, so that half
`b` stays an unseen estimate. Scan with `--source user` (the default).

With `--multilingual BELLE JA_VICUNA JA_FASTCHAT`, it also writes `chat_unseen_multilingual.jsonl`: the
1,000 Chinese prompts of BELLE's evaluation set (`eval/eval_set.json`), the Japanese Vicuna-bench
questions (`data/jp_bench/question.jsonl`) and both turns of Stability AI's Japanese MT-bench
(`fastchat/llm_judge/data/japanese_mt_bench/question_full.jsonl`), the same fields:

    git clone https://github.com/LianjiaTech/BELLE target/ext/BELLE                      # 645084d
    git clone https://github.com/ku-nlp/ja-vicuna-qa-benchmark target/ext/ja-vicuna     # 128a862
    git clone https://github.com/Stability-AI/FastChat target/ext/FastChat-ja           # e37eb28

With `--more ALPACA_EVAL WIZARDLM AWESOME_CSV TRAINING_CHAT`, it also writes `chat_unseen_2.jsonl`, a second
English set gathered after the classifier's weights of `34a2324` and never trained on: the Koala test prompts
(real users' queries) and the Anthropic helpful-base prompts (crowdworkers') among AlpacaEval's 805
instructions (`results/gpt4/model_outputs.json`, field `dataset`), the 218 prompts of WizardLM's test set
(`WizardLM/data/WizardLM_testset.jsonl`, real users' instructions from open-source projects and forums), and
the 165 "act as" prompts of awesome-chatgpt-prompts as it was at the end of 2023 (`prompts.csv` at
`82f15563`; the one row that is a DAN jailbreak is left out). A prompt that is in `chat_unseen.jsonl` or
repeats a training prompt (`TRAINING_CHAT`, the output of `scripts/benign_chat.py`; the same test as that
script's: the same text, or half of its six-word runs in one prompt) is dropped:

    git clone https://github.com/tatsu-lab/alpaca_eval target/ext/alpaca_eval           # cd543a1
    git clone https://github.com/nlpxucan/WizardLM target/ext/WizardLM                  # cd4b4cc
    git clone https://github.com/f/awesome-chatgpt-prompts target/ext/awesome-chatgpt-prompts
    git -C target/ext/awesome-chatgpt-prompts show 82f15563:prompts.csv > target/ext/awesome_prompts_2023.csv
    python3 scripts/unseen_chat.py ... --more target/ext/alpaca_eval target/ext/WizardLM \
        target/ext/awesome_prompts_2023.csv target/benign_chat.jsonl

With `--roles AWESOME_CSV_2026 AWESOME_CSV_2023`, it also writes `chat_unseen_roles.jsonl`: role and
system prompts, the kind users paste to set a model up ("Act as a Financial Analyst. You are tasked with
... Rules: ..."), gathered after the classifier's weights of `6cedc9e` and never trained on. They are the
1,300-odd prompts that awesome-chatgpt-prompts gained between the end of 2023 and March 2026
(`prompts.csv` at `a519527c`, minus every prompt of the 2023 file), many of them long and structured
(markdown sections, XML tags, JSON for image generators), some in Chinese, Portuguese or Turkish;
`subcategory` is the file's `type` column (TEXT, STRUCTURED, IMAGE). A prompt that names a jailbreak
(the test of `scripts/benign_chat.py`), or repeats a prompt of the first set or of the 2023 file (the same
test as `--more`'s: the same text, or half of its six-word runs in one prompt), is dropped:

    git -C target/ext/awesome-chatgpt-prompts show a519527c:prompts.csv > target/ext/awesome_prompts_2026.csv
    python3 scripts/unseen_chat.py ... --roles target/ext/awesome_prompts_2026.csv \
        target/ext/awesome_prompts_2023.csv
"""

import csv
import json
import sys
from pathlib import Path

# Same halves, reader and writer as the outside attack sources
# (the script's folder is on sys.path when it runs).
from external_sources import half, read_jsonl, write
from benign_chat import JAILBREAK, HeldOut


def prompts(oasst: Path, fastchat: Path, arena: Path):
    """(text, origin) for every user turn, in file order."""
    manual = oasst / "model" / "model_eval" / "manual" / "data"
    for text in read_jsonl(manual / "prompt_lottery_en_250_text.jsonl"):
        yield text, "oasst/prompt_lottery_en_250"

    def walk(message):
        if message.get("role") == "prompter":
            yield message["text"], "oasst/en_100_message"
        for reply in message.get("replies") or []:
            yield from walk(reply)

    for tree in read_jsonl(manual / "en_100_message.jsonl"):
        yield from walk(tree)
    seed = oasst / "backend" / "test_data" / "realistic" / "realistic_seed_data.json"
    with seed.open(encoding="utf-8") as f:
        for message in json.load(f):
            if message.get("role") == "prompter":
                yield message["text"], "oasst/realistic_seed_data"
    judge = fastchat / "fastchat" / "llm_judge" / "data"
    for bench in ("mt_bench", "vicuna_bench"):
        for question in read_jsonl(judge / bench / "question.jsonl"):
            for turn in question["turns"]:
                yield turn, f"fastchat/{bench}"
    for question in read_jsonl(arena / "data" / "arena-hard-v0.1" / "question.jsonl"):
        for turn in question["turns"]:
            yield turn["content"], "arena-hard/v0.1"


def multilingual(belle: Path, ja_vicuna: Path, ja_fastchat: Path):
    """(text, origin) for every prompt of the Chinese and Japanese sets, in file order."""
    for row in read_jsonl(belle / "eval" / "eval_set.json"):
        yield row["question"], "belle/eval_set"
    for question in read_jsonl(ja_vicuna / "data" / "jp_bench" / "question.jsonl"):
        for turn in question["turns"]:
            yield turn, "ja-vicuna-qa-benchmark"
    bench = ja_fastchat / "fastchat" / "llm_judge" / "data" / "japanese_mt_bench" / "question_full.jsonl"
    for question in read_jsonl(bench):
        for turn in question["turns"]:
            yield turn, "japanese_mt_bench"


def more_english(alpaca_eval: Path, wizardlm: Path, awesome_csv: Path):
    """(text, origin) for the prompts of the second English set, in file order."""
    with (alpaca_eval / "results" / "gpt4" / "model_outputs.json").open(encoding="utf-8") as f:
        for row in json.load(f):
            if row["dataset"] in ("koala", "helpful_base"):
                yield row["instruction"], f"alpaca_eval/{row['dataset']}"
    for row in read_jsonl(wizardlm / "WizardLM" / "data" / "WizardLM_testset.jsonl"):
        yield row["Instruction"], "wizardlm/testset"
    with awesome_csv.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if not JAILBREAK.search(row["prompt"]):
                yield row["prompt"], "awesome-chatgpt-prompts"


def awesome_prompts(path: Path) -> list:
    """Every prompt of an awesome-chatgpt-prompts `prompts.csv`."""
    csv.field_size_limit(1 << 24)
    with path.open(encoding="utf-8", newline="") as f:
        return [(row.get("prompt") or "").strip() for row in csv.DictReader(f)]


def role_prompts(awesome_2026: Path, old: set):
    """(text, origin) for every prompt the 2026 file has and `old` (the 2023 file's) has not (the
    caller also drops those that repeat a 2023 prompt with a few words changed)."""
    csv.field_size_limit(1 << 24)
    with awesome_2026.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            text = (row.get("prompt") or "").strip()
            if text and text not in old and not JAILBREAK.search(text):
                yield text, f"awesome-chatgpt-prompts-2026/{row.get('type') or 'TEXT'}"


def labelled(prompts) -> list:
    """Every distinct prompt as a benign row, with its origin and half."""
    rows, seen = [], set()
    for text, origin in prompts:
        text = text.strip()
        if not text or text in seen:
            continue
        seen.add(text)
        rows.append({"text": text, "label": "benign", "category": "benign_chat", "subcategory": origin,
                     "half": half(text)})
    return rows


def take_option(args: list, flag: str, count: int):
    """The `count` paths after `flag`, removed from `args`; None when the flag is absent. Raises
    ValueError when fewer follow it."""
    if flag not in args:
        return None
    i = args.index(flag)
    values = [Path(a) for a in args[i + 1:i + 1 + count]]
    if len(values) != count:
        raise ValueError(f"{flag} needs {count} paths")
    del args[i:i + 1 + count]
    return values


def main() -> int:
    args = sys.argv[1:]
    try:
        extra = take_option(args, "--multilingual", 3)
        more = take_option(args, "--more", 4)
        roles = take_option(args, "--roles", 2)
    except ValueError as e:
        print(e, file=sys.stderr)
        return 2
    if len(args) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    oasst, fastchat, arena, out = (Path(a) for a in args)
    out.mkdir(parents=True, exist_ok=True)
    first = labelled(prompts(oasst, fastchat, arena))
    write(out / "chat_unseen.jsonl", first)
    if more is not None:
        seen = HeldOut([*(row["text"] for row in first),
                        *(row["text"].strip() for row in read_jsonl(more[3]))])
        rows = [row for row in labelled(more_english(*more[:3])) if row["text"] not in seen]
        write(out / "chat_unseen_2.jsonl", rows)
    if extra is not None:
        write(out / "chat_unseen_multilingual.jsonl", labelled(multilingual(*extra)))
    if roles is not None:
        old = awesome_prompts(roles[1])
        seen = HeldOut([*(row["text"] for row in first), *old])
        write(out / "chat_unseen_roles.jsonl",
              [row for row in labelled(role_prompts(roles[0], set(old))) if row["text"] not in seen])
    return 0


if __name__ == "__main__":
    sys.exit(main())
