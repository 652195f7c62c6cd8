#!/usr/bin/python3
"""Assembles the default model's training text from what a Debian machine can install, plus the
project's own example corpus, and derives task data for the report plan's steps from it.

Sources (install with apt; licences in /usr/share/doc/PKG/copyright):
  debian-reference-en, debian-reference-zh-cn  Debian Reference, English and Simplified Chinese (GPL-2+)
  manpages-zh                                  Chinese manual pages (GFDL-1.2+)
  tests/data/corpus/seeds/*.txt                the project's example research reports

Writes OUT/text.jsonl (one {"text", "source"} per document) and OUT/tasks.jsonl (one {"task",
"messages"} per example: outline, queries, draft, revise — the prompts the report plan sends,
with targets built extractively from the documents). Deterministic for a given --seed.

    /usr/bin/python3 engine/train/build_corpus.py --out var/train/corpus
"""

import argparse
import glob
import gzip
import html
import json
import os
import random
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import prompts  # noqa: E402  (the report plan's prompt templates, mirrored)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def html_to_text(raw):
    raw = re.sub(r"(?is)<(script|style).*?</\1>", " ", raw)
    raw = re.sub(r"(?i)<h([1-6])[^>]*>", lambda m: "\n\n" + "#" * int(m.group(1)) + " ", raw)
    raw = re.sub(r"(?i)</(p|div|h[1-6]|li|tr|pre|table|dt|dd)>", "\n", raw)
    raw = re.sub(r"(?i)<br\s*/?>", "\n", raw)
    raw = re.sub(r"<[^>]+>", "", raw)
    text = html.unescape(raw)
    text = re.sub(r"[ \t\r\f\v]+", " ", text)
    text = re.sub(r"\n\s*\n\s*(\n\s*)+", "\n\n", text)
    return text.strip()


def man_to_text(path):
    # groff renders the page as plain UTF-8 text; without groff, strip the roff requests.
    try:
        out = subprocess.run(["man", "-l", "-Tutf8", "-P", "cat", path], capture_output=True, timeout=20,
                             env=dict(os.environ, MANWIDTH="100", LANG="C.UTF-8"))
        text = out.stdout.decode("utf-8", "replace")
        if out.returncode == 0 and text.strip():
            return re.sub(r".\x08", "", text)
    except (OSError, subprocess.TimeoutExpired):
        pass
    with gzip.open(path, "rt", encoding="utf-8", errors="replace") as f:
        lines = []
        for line in f:
            if line.startswith(".\\\"") or line.startswith("'\\\""):
                continue
            line = re.sub(r"^\.(SH|SS)\s+", "\n## ", line)
            line = re.sub(r"^\.[A-Za-z]+\s?", "", line)
            line = re.sub(r"\\f[BIRP]|\\\(..|\\-|\\&|\\e", "", line)
            lines.append(line)
        return "".join(lines)


def documents(limit_man):
    for path in sorted(glob.glob("/usr/share/debian-reference/*.en.html")):
        yield {"text": html_to_text(open(path, encoding="utf-8", errors="replace").read()), "source": "debian-reference-en:" + os.path.basename(path)}
    for path in sorted(glob.glob("/usr/share/debian-reference/*.zh-cn.html")):
        yield {"text": html_to_text(open(path, encoding="utf-8", errors="replace").read()), "source": "debian-reference-zh-cn:" + os.path.basename(path)}
    man = sorted(glob.glob("/usr/share/man/zh_CN/man*/*.gz"))[:limit_man]
    for path in man:
        # Every page ends with the same translation-project footer; kept, it teaches the model
        # to recite it.
        text = "\n".join(line for line in man_to_text(path).split("\n")
                          if "手册页计划" not in line and "本页面中文版" not in line)
        if len(text) > 200:
            yield {"text": text, "source": "manpages-zh:" + os.path.basename(path)}
    for path in sorted(glob.glob(os.path.join(ROOT, "tests", "data", "corpus", "seeds", "*.txt"))):
        yield {"text": open(path, encoding="utf-8").read(), "source": "seeds:" + os.path.basename(path)}


CJK = re.compile(r"[\u4e00-\u9fff]")
SENTENCE = re.compile(r"[^。！？；.!?;\n]+[。！？；.!?;]?")


def sentences(text):
    out = []
    for s in SENTENCE.findall(text):
        s = s.strip()
        if 12 <= len(s) <= 200 and not s.startswith("#"):
            out.append(s)
    return out


HEADING_LINE = re.compile(r"^(?:#{1,4} )?([^\s。！？；.!?;:：,，].{1,38}[^\s。！？；.!?;:：,，])$")


def sections(text):
    """(heading, body) pairs: Markdown headings, or short lines without end punctuation (man
    page section names, HTML headings) followed by a body."""
    result = []
    heading, body = None, []
    for line in text.split("\n"):
        stripped = line.strip()
        match = HEADING_LINE.match(stripped) if stripped and len(stripped) <= 40 else None
        if match and (stripped.startswith("#") or not body or len(" ".join(body)) > 120):
            if heading and len(" ".join(body)) > 120:
                result.append((heading, "\n".join(body)))
            heading, body = match.group(1).lstrip("# "), []
        elif heading is not None:
            body.append(line)
    if heading and len(" ".join(body)) > 120:
        result.append((heading, "\n".join(body)))
    return result


def task_examples(doc, rng):
    """Outline, queries, draft and revise examples from one document, in its language."""
    text = doc["text"]
    lang = "zh" if len(CJK.findall(text[:2000])) > 50 else "en"
    T = prompts.TEMPLATES[lang]
    secs = sections(text)
    if len(secs) < 2:
        return
    title = secs[0][0] if len(secs[0][0]) <= 40 else secs[0][0][:40]
    start = rng.randint(0, max(0, len(secs) - 2))
    chosen = secs[start:start + rng.randint(2, 4)]
    if len(chosen) < 2:
        return
    outline = {"title": title, "sections": [{"heading": h[:30], "question": (sentences(b) or [h])[0][:60]} for h, b in chosen]}
    notes = "\n".join("- " + s[:120] for s in (sentences(text)[:5]))
    yield {"task": "outline", "messages": [
        {"role": "system", "content": T["system"]},
        {"role": "user", "content": T["outline"] % (2, 4, title, notes)},
        {"role": "assistant", "content": json.dumps(outline, ensure_ascii=False)}]}
    for heading, body in chosen:
        ss = sentences(body)
        if len(ss) < 3:
            continue
        question = ss[0][:60]
        words = [w for w in re.findall(r"[\u4e00-\u9fff]{2,6}|[A-Za-z][A-Za-z0-9_-]{3,}", body)]
        queries = []
        for w in words:
            if w not in queries and len(queries) < 3:
                queries.append(w[:30])
        if queries:
            yield {"task": "queries", "messages": [
                {"role": "system", "content": T["system"]},
                {"role": "user", "content": T["queries"] % (title, heading, question)},
                {"role": "assistant", "content": json.dumps({"queries": queries}, ensure_ascii=False)}]}
        # Grounded draft: passages are sentences of the section plus distractors; the target
        # restates the section's own sentences, each citing the passage it comes from.
        picked = ss[:min(len(ss), 4)]
        distractors = [s for s in sentences(text) if s not in ss]
        rng.shuffle(distractors)
        passages = picked + distractors[:rng.randint(1, 3)]
        rng.shuffle(passages)
        listing = "\n".join("[%d] %s" % (i + 1, p) for i, p in enumerate(passages))
        draft = " ".join("%s [%d]" % (s, passages.index(s) + 1) for s in picked)
        user = (T["draft"] % (title, heading, question, listing)) if lang == "zh" else (T["draft"] % (heading, title, question, listing))
        yield {"task": "draft", "messages": [
            {"role": "system", "content": T["system"]},
            {"role": "user", "content": user},
            {"role": "assistant", "content": draft}]}
        # Revise: a draft with a citation removed and a bogus one added → the correct draft.
        broken = " ".join("%s [%d]" % (s, (passages.index(s) + 2) % (len(passages) + 3) + 1) if i == 0 else s
                          for i, s in enumerate(picked))
        problems = T["problems"]
        yield {"task": "revise", "messages": [
            {"role": "system", "content": T["system"]},
            {"role": "user", "content": T["rewrite"] % (listing, broken, problems)},
            {"role": "assistant", "content": draft}]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--max-man-pages", type=int, default=100000)
    parser.add_argument("--variants", type=int, default=3, help="task examples drawn per document")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    rng = random.Random(args.seed)
    n_docs = n_chars = 0
    counts = {}
    with open(os.path.join(args.out, "text.jsonl"), "w", encoding="utf-8") as text_out, \
         open(os.path.join(args.out, "tasks.jsonl"), "w", encoding="utf-8") as task_out:
        for doc in documents(args.max_man_pages):
            if len(doc["text"]) < 200:
                continue
            text_out.write(json.dumps(doc, ensure_ascii=False) + "\n")
            n_docs += 1
            n_chars += len(doc["text"])
            # Each document yields several examples, with different sections and distractors.
            for _ in range(args.variants):
                for example in task_examples(doc, rng):
                    task_out.write(json.dumps(example, ensure_ascii=False) + "\n")
                    counts[example["task"]] = counts.get(example["task"], 0) + 1
    print("corpus: %d documents, %.1f M characters; tasks: %s" % (n_docs, n_chars / 1e6, counts))
    if n_docs == 0:
        sys.exit("no documents found: install debian-reference-en debian-reference-zh-cn manpages-zh")


if __name__ == "__main__":
    main()
