#!/usr/bin/python3
"""What a reader gets from the report plan: runs `report` through a real daemon on the seed
corpus for every corpus question as a topic (plus a few broader topics), in each writing style,
in one run, and scores each report:

- answer coverage: does the question's `answer_contains` reach the report body; answer first:
  is it in the body's first sentence (answer_in_two: its first two), where a reader looks;
  sections per report;
- faithfulness: the share of body sentences carrying a citation, and the share of cited
  sentences found verbatim (whitespace aside) in the passage their citation names;
- readability: repeated sentences, near repeats (80% of the shorter one's letter bigrams in an
  earlier one: the same sentence from two sources, punctuated apart), distinct 4-gram ratio (characters for Chinese, words for
  English), paragraphs that open with a sentence leaning on one the report does not have (a
  pronoun or a continuation: "这", "It", "例如"), and the share of junk in the body (JSON punctuation, URLs, runs of 6+ digits,
  dot leaders of a table of contents);
- references per report, seconds per report, tokens, and the prefix-cache hit rate of the run.

    PYTHONPATH=build/python:sdk/python /usr/bin/python3 bench/report_quality.py \
        [--model engine/models/agentd-default] [--embedding-model engine/models/agentd-embed] \
        [--styles extractive,abstractive] [--dev | --english] [--json OUT.json] [--show N]

Starts its own daemon (build/bin/agentd) on a temporary data directory and ingests
tests/data/corpus/seeds with agentctl, as a user would. --dev adds the 24 held-out questions;
--english runs the English corpus (tests/data/corpus_en) and its questions instead.
"""

import argparse
import json
import os
import re
import subprocess
import time

import grpc

from agentd_client import Client
from bench_daemon import bench_daemon
from agentd.v1 import model_pb2, model_pb2_grpc

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BROAD_TOPICS = [
    "中国AI Agent市场规模与增长",
    "DeepSeek-V3 的训练成本与技术创新",
    "DeepSeek 对英伟达与算力需求的影响",
    "AI 大模型对传媒与影视行业的影响",
]
BROAD_TOPICS_EN = [
    "Harbor Robotics business performance in 2024",
    "Grid battery storage growth and economics",
    "The cost of training and serving large language models",
]
CITATION = re.compile(r"\[(\d+)\]")
TABLE_SOURCE = re.compile(r"^(（表格摘自资料 \[(\d+)\]）|\(Table quoted from \[(\d+)\]\.\))$")
JUNK = re.compile(r"https?://\S+|www\.\S+|[{}\"\\]|\d{6,}|\.{4,}|…{3,}")


def questions(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def squash(text):
    """Whitespace aside, and the mark of a word hyphenated across lines ("CINI⁃\\nTY" is quoted
    as CINITY)."""
    return re.sub(r"\s+", "", re.sub(r"[\u2043\u00ad][ \t]*\n", "", text))


def letter_bigrams(text):
    """Bigrams of a text's letters and digits, case folded: punctuation and spaces aside, so
    "2025 年 1 月 20 日，DeepSeek" and "2025 年 1 月 20 日, DeepSeek" read alike."""
    letters = [c for c in text.lower() if c.isalnum()]
    return {a + b for a, b in zip(letters, letters[1:])}


def near_duplicates(sentences):
    """Sentences that say again what an earlier, different one said: at least 80% of the
    shorter one's letter bigrams are in the other (exact repeats are counted apart)."""
    grams = [letter_bigrams(s) for s in sentences]
    count = 0
    for j in range(len(sentences)):
        for i in range(j):
            a, b = grams[i], grams[j]
            if squash(sentences[i]) == squash(sentences[j]) or min(len(a), len(b)) < 8:
                continue
            if len(a & b) >= 0.8 * min(len(a), len(b)):
                count += 1
                break
    return count


def body_of(markdown):
    """The section texts (everything after the title, without headings, quoted tables and
    references), and the quoted tables as (cells, citation)."""
    lines, body, tables, pending = markdown.split("\n"), [], [], []
    for line in lines:
        if re.match(r"^## (References|参考文献)\s*$", line):
            break
        if line.startswith("|"):
            if not re.match(r"^\|( --- \|)+$", line):
                pending += [c.strip() for c in line.strip("|").split("|") if c.strip()]
            continue
        source = TABLE_SOURCE.match(line.strip())
        if source:
            tables.append((pending, int(source.group(2) or source.group(3))))
            pending = []
            continue
        if line.startswith("#") or not line.strip():
            continue
        body.append(line.strip())
    return body, tables


def sentences_of(paragraph):
    """Sentences with the citations that follow them: "text。[1]" or "text [1]." count as cited."""
    out = []
    # A citation closes the sentence before it; otherwise sentence ends split.
    for piece in re.split(r"(?<=\])|(?<=[。！？!?])(?![\[”’」』）)\"])|(?<=\.)\s+(?!\[)", paragraph):
        piece = piece.strip()
        if not piece:
            continue
        cites = [int(n) for n in CITATION.findall(piece)]
        text = CITATION.sub("", piece).strip()
        if text:
            out.append((text, cites))
        elif out and cites:  # a citation split off on its own belongs to the sentence before
            out[-1] = (out[-1][0], out[-1][1] + cites)
    return out


def ngram_ratio(text, chinese):
    units = list(squash(text)) if chinese else re.findall(r"\w+", text.lower())
    grams = [tuple(units[i:i + 4]) for i in range(len(units) - 3)]
    return len(set(grams)) / len(grams) if grams else 1.0


def passage_text(reference, documents):
    """The cited passage, read from the ingested file: the span is in code points."""
    path = os.path.join(documents, os.path.basename(reference.document_id))
    if not os.path.exists(path):
        return ""
    with open(path, encoding="utf-8") as f:
        return f.read()[reference.span.start:reference.span.end]


# Openers of a sentence that leans on the one before it (memory/src/sentence_ranker.cc's list).
LEANING = ("For example", "For instance", "However", "Therefore", "Moreover", "Also", "But ", "And ", "例如", "比如",
           "譬如", "此外", "另外", "同时", "因此", "所以", "但", "而", "不过", "然而", "对此", "与此同时", "It ", "Its ",
           "This ", "These ", "They ", "Their ", "He ", "She ", "Such ", "其", "该", "这", "此", "它", "他们", "显著",
           "大幅", "进一步", "从而", "进而", "并且", "极大", "Second,", "Secondly", "Third,", "Thirdly", "Finally,",
           "Lastly,", "On the other hand", "其次", "再次", "最后，", "最后,", "最终，", "第二，", "第三，", "另一方面", "First,", "Firstly",
           "首先", "第一，", "一方面")


def score(markdown, references, answer, chinese, documents):
    body, tables = body_of(markdown)
    text = "\n".join(body)
    sentences = [s for p in body for s in sentences_of(p)]
    passages = {r.number: squash(passage_text(r, documents)) for r in references}
    cells = [(cell, n) for table_cells, n in tables for cell in table_cells]
    cells_verbatim = sum(squash(c) in passages.get(n, "") for c, n in cells)
    full_text = text + "\n" + "\n".join(c for c, _ in cells)
    cited = [s for s in sentences if s[1]]
    verbatim = [s for s in cited if all(squash(s[0]) in passages.get(n, "") for n in s[1])]
    seen, repeated = set(), 0
    for s, _ in sentences:
        key = squash(s)
        repeated += key in seen
        seen.add(key)
    near_repeats = near_duplicates([s for s, _ in sentences])
    junk = sum(len(m.group(0)) for m in JUNK.finditer(text))
    opened = [sentences_of(p) for p in body]
    leaning_openers = sum(1 for ss in opened if ss and ss[0][0].strip().startswith(LEANING))
    sections = sum(1 for line in markdown.split("\n")
                   if line.startswith("## ") and not re.match(r"^## (References|参考文献)\s*$", line))
    return {
        "answered": None if answer is None else squash(answer) in squash(full_text),
        # The reader's first sentence answers the question (in the first two when the first is
        # the sentence the answer leans on).
        "answer_first": None if answer is None else bool(sentences) and squash(answer) in squash(sentences[0][0]),
        "answer_in_two": None if answer is None else squash(answer) in squash("".join(t for t, _ in sentences[:2])),
        "sections": sections,
        "tables": len(tables),
        "table_cells_verbatim": cells_verbatim / len(cells) if cells else None,
        "sentences": len(sentences),
        "cited_share": len(cited) / len(sentences) if sentences else 0.0,
        "verbatim_share": len(verbatim) / len(cited) if cited else 0.0,
        "repeated_sentences": repeated,
        "near_repeats": near_repeats,
        "leaning_openers": leaning_openers,
        "distinct_4grams": round(ngram_ratio(text, chinese), 3),
        "junk_share": round(junk / max(1, len(text)), 4),
        "references": len(references),
    }


def serving(stub):
    s = stub.ModelInfo(model_pb2.ModelInfoRequest(), timeout=10).serving
    return s.prefill_tokens, s.prefix_hit_tokens


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=os.path.join(ROOT, "engine", "models", "agentd-default"))
    parser.add_argument("--embedding-model", default=os.path.join(ROOT, "engine", "models", "agentd-embed"))
    parser.add_argument("--styles", default="extractive,abstractive")
    parser.add_argument("--sections", type=int, default=4)
    parser.add_argument("--dev", action="store_true", help="also the 24 held-out questions")
    parser.add_argument("--english", action="store_true",
                        help="the English corpus (tests/data/corpus_en) and its 20 questions instead")
    parser.add_argument("--json", help="write every row and the summaries here")
    parser.add_argument("--show", type=int, default=0, help="print the first N extractive reports")
    parser.add_argument("--reports", help="write every report here, one Markdown file each (style-NN.md), to read them")
    args = parser.parse_args()

    corpus = os.path.join(ROOT, "tests", "data", "corpus_en" if args.english else "corpus")
    topics = [(q["question"], q["answer_contains"]) for q in questions(os.path.join(corpus, "questions.jsonl"))]
    if args.dev and not args.english:
        topics += [(q["question"], q["answer_contains"]) for q in questions(os.path.join(corpus, "questions_dev.jsonl"))]
    topics += [(t, None) for t in (BROAD_TOPICS_EN if args.english else BROAD_TOPICS)]

    flags = ["--model", args.model]
    if args.embedding_model != "none":
        flags += ["--embedding-model", args.embedding_model]
    results = {"rows": [], "summary": {}}
    with bench_daemon(flags) as (address, agentctl):
        subprocess.run(agentctl + ["memory", "create", "seeds"], check=True, stdout=subprocess.DEVNULL)
        seeds = os.path.join(corpus, "seeds")
        subprocess.run(agentctl + ["memory", "ingest", "seeds"] + sorted(os.path.join(seeds, n) for n in os.listdir(seeds)),
                       check=True, stdout=subprocess.DEVNULL)
        client = Client(address, timeout=120)
        model = model_pb2_grpc.ModelServiceStub(grpc.insecure_channel(address))
        shown = 0
        for style in args.styles.split(","):
            prefill0, hit0 = serving(model)
            rows = []
            for topic, answer in topics:
                start = time.time()
                run = client.start_run("report", {"topic": topic, "collection": "seeds", "max_sections": args.sections,
                                                  "style": style})
                for _ in client.follow_run(run.run_id, include_tokens=False):
                    pass
                run = client.get_run(run.run_id)
                seconds = time.time() - start
                chinese = re.search(r"[\u4e00-\u9fff]", topic) is not None
                row = {"style": style, "topic": topic, "state": run.state, "error": run.error, "seconds": round(seconds, 2),
                       "prompt_tokens": run.usage.prompt_tokens, "completion_tokens": run.usage.completion_tokens}
                row.update(score(run.artifact.content, run.artifact.references, answer, chinese, seeds))
                rows.append(row)
                print(json.dumps(row, ensure_ascii=False), flush=True)
                if args.reports:
                    os.makedirs(args.reports, exist_ok=True)
                    with open(os.path.join(args.reports, "%s-%02d.md" % (style, len(rows))), "w", encoding="utf-8") as f:
                        f.write(run.artifact.content)
                if style == "extractive" and shown < args.show:
                    shown += 1
                    print(run.artifact.content, flush=True)
            prefill1, hit1 = serving(model)
            asked = [r for r in rows if r["answered"] is not None]
            cited_total = sum(r["sentences"] * r["cited_share"] for r in rows)
            summary = {
                "style": style, "reports": len(rows), "succeeded": sum(r["state"] == 3 for r in rows),
                "answer_coverage": round(sum(bool(r["answered"]) for r in asked) / len(asked), 3) if asked else None,
                "answer_first": round(sum(bool(r["answer_first"]) for r in asked) / len(asked), 3) if asked else None,
                "answer_in_two": round(sum(bool(r["answer_in_two"]) for r in asked) / len(asked), 3) if asked else None,
                "sections_per_report": round(sum(r["sections"] for r in rows) / len(rows), 2),
                "cited_share": round(cited_total / max(1, sum(r["sentences"] for r in rows)), 3),
                "verbatim_share": round(sum(r["sentences"] * r["cited_share"] * r["verbatim_share"] for r in rows) / max(1e-9, cited_total), 3),
                "repeated_sentences": sum(r["repeated_sentences"] for r in rows),
                "near_repeats": sum(r["near_repeats"] for r in rows),
                "leaning_openers": sum(r["leaning_openers"] for r in rows),
                "distinct_4grams": round(sum(r["distinct_4grams"] for r in rows) / len(rows), 3),
                "junk_share": round(sum(r["junk_share"] for r in rows) / len(rows), 4),
                "tables": sum(r["tables"] for r in rows),
                "table_cells_verbatim": (round(sum(r["table_cells_verbatim"] for r in rows if r["tables"]) /
                                               max(1, sum(1 for r in rows if r["tables"])), 3)
                                         if any(r["tables"] for r in rows) else None),
                "references_per_report": round(sum(r["references"] for r in rows) / len(rows), 2),
                "min_references": min(r["references"] for r in rows),
                "seconds_per_report": round(sum(r["seconds"] for r in rows) / len(rows), 2),
                "max_seconds": max(r["seconds"] for r in rows),
                "tokens_per_report": round(sum(r["prompt_tokens"] + r["completion_tokens"] for r in rows) / len(rows)),
                "prefix_cache_hit_rate": round((hit1 - hit0) / max(1, (prefill1 - prefill0) + (hit1 - hit0)), 3),
            }
            results["rows"] += rows
            results["summary"][style] = summary
            print(json.dumps(summary, ensure_ascii=False), flush=True)
        if args.json:
            with open(args.json, "w", encoding="utf-8") as f:
                json.dump(results, f, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()
