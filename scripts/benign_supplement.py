#!/usr/bin/env python3
"""Benign training text beyond ../shared/corpus, from files a Debian + Python 3.11 machine ships.

Why: the classifier learns what "benign" looks like only from what it is shown. The shared
corpus has chat, questions, code requests and some documents; leave-one-source-out showed
that a source kind the model never saw (chat, documents) is then mostly flagged. This adds
three other kinds of ordinary text, with provenance on every row:

  * gettext catalogs (/usr/share/locale/*/LC_MESSAGES/*.mo): translated UI sentences in
    dozens of languages (multilingual ordinary text, many of them imperatives like
    "Delete the selected files?" that must not look like attacks);
  * Debian package documentation (/usr/share/doc/*/README*, plain or .gz): prose and tool
    output-like text (changelog lines, option tables);
  * Python standard-library docstrings (this interpreter's Lib/*.py): technical prose;
  * fortune cookies (Debian packages `fortunes` and `fortunes-min`, /usr/share/games/fortunes):
    everyday English prose, quotes, jokes and dialogue: ordinary text that talks to "you",
    tells stories and gives orders, the register role-play jailbreaks are written in.
    Install them first: `apt-get install -y fortunes fortunes-min`.

Deterministic for a given machine image: files are walked in sorted order and sampled by a
hash of their path, never at random. Output: JSONL on stdout (text, label=benign, category,
source). Nothing here is committed; run it to reproduce the shipped weights (see
skills/classifier/SKILL.md).
"""
import ast
import gettext
import gzip
import hashlib
import json
import os
import re
import sys
import sysconfig

LANGS = {"de", "es", "fr", "it", "pt", "pt_BR", "ru", "zh_CN", "zh_TW", "ja", "ko", "nl", "pl", "tr", "uk",
         "ar", "hi", "vi", "id", "sv", "cs", "fi", "da", "el", "he", "hu", "ro", "ca"}
MAX_PER_CATALOG = 12
MAX_PER_DOC = 12
MAX_DOCSTRINGS_PER_MODULE = 15


def keep(path: str, share: int) -> bool:
    """Deterministic sampling by path hash: keep about share/100 of the paths."""
    return int(hashlib.sha256(path.encode()).hexdigest()[:8], 16) % 100 < share


def emit(text: str, category: str, source: str, grouped: bool = True) -> None:
    """One row. Grouped rows get `subcategory` = the file they came from, so `aimds train`
    weights the file as a group (square root of its size): UI strings of one catalog or
    paragraphs of one README are correlated. Independent texts (fortunes) stand alone."""
    text = text.strip()
    if len(text) < 20:
        return
    row = {"text": text, "label": "benign", "category": category, "source": source}
    if grouped:
        row["subcategory"] = source
    print(json.dumps(row, ensure_ascii=False))


def sentences_ok(s: str) -> bool:
    words = s.split()
    # Skip format-string debris and single words: we want sentences.
    return len(words) >= 4 or (len(s) >= 12 and not s.isascii())


def catalogs() -> None:
    root = "/usr/share/locale"
    if not os.path.isdir(root):
        return
    for lang in sorted(os.listdir(root)):
        if lang not in LANGS:
            continue
        d = os.path.join(root, lang, "LC_MESSAGES")
        if not os.path.isdir(d):
            continue
        for name in sorted(os.listdir(d)):
            if not name.endswith(".mo") or name.startswith("iso_"):
                continue
            path = os.path.join(d, name)
            try:
                with open(path, "rb") as f:
                    cat = gettext.GNUTranslations(f)
            except Exception:
                continue
            picked = 0
            for msgid, msgstr in sorted(cat._catalog.items(), key=lambda kv: str(kv[0])):
                if not isinstance(msgstr, str) or "%" in msgstr or "{" in msgstr or "\x00" in msgstr:
                    continue
                s = re.sub(r"\s+", " ", msgstr).strip()
                if not sentences_ok(s) or not keep(f"{path}:{msgid}", 20):
                    continue
                emit(s, "benign_ui_text", f"debian:{path}")
                picked += 1
                if picked >= MAX_PER_CATALOG:
                    break


def read_doc(path: str) -> str:
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", errors="strict") as f:
        return f.read(200_000)


def docs() -> None:
    root = "/usr/share/doc"
    if not os.path.isdir(root):
        return
    for pkg in sorted(os.listdir(root)):
        d = os.path.join(root, pkg)
        if not os.path.isdir(d):
            continue
        for name in sorted(os.listdir(d)):
            if not (name.startswith("README") or name.startswith("NEWS") or name == "changelog.Debian.gz"):
                continue
            path = os.path.join(d, name)
            try:
                text = read_doc(path)
            except Exception:
                continue
            paras = [p.strip() for p in re.split(r"\n\s*\n", text) if 80 <= len(p.strip()) <= 2000]
            picked = 0
            for p in paras:
                if keep(f"{path}:{p[:64]}", 35):
                    emit(p, "benign_document", f"debian:{path}")
                    picked += 1
                    if picked >= MAX_PER_DOC:
                        break


def docstrings() -> None:
    lib = sysconfig.get_paths()["stdlib"]
    for name in sorted(os.listdir(lib)):
        if not name.endswith(".py") or not keep(name, 50):
            continue
        path = os.path.join(lib, name)
        try:
            tree = ast.parse(open(path, encoding="utf-8").read())
        except Exception:
            continue
        picked = 0
        for node in ast.walk(tree):
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                doc = ast.get_docstring(node)
                if doc and len(doc) >= 80:
                    emit(doc[:2000], "benign_document", f"python{sys.version_info[0]}.{sys.version_info[1]}:{name}")
                    picked += 1
                    if picked >= MAX_DOCSTRINGS_PER_MODULE:
                        break


def fortunes() -> None:
    root = "/usr/share/games/fortunes"
    if not os.path.isdir(root):
        print("benign_supplement: /usr/share/games/fortunes missing (apt-get install fortunes fortunes-min)",
              file=sys.stderr)
        return
    for name in sorted(os.listdir(root)):
        path = os.path.join(root, name)
        if not os.path.isfile(path) or "." in name:
            continue  # skip the .dat indexes and .u8 links
        try:
            text = open(path, encoding="utf-8", errors="strict").read()
        except Exception:
            continue
        for entry in re.split(r"\n%\n", text):
            entry = entry.strip()
            if 40 <= len(entry) <= 1500 and keep(f"{path}:{entry[:64]}", 60):
                emit(entry, "benign_chat", f"debian:{path}", grouped=False)


if __name__ == "__main__":
    fortunes()
    catalogs()
    docs()
    docstrings()
