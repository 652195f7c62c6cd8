#!/usr/bin/python3
"""The probe set: every report a change to the report plan can move, written to a folder, to
compare before and after a change byte for byte and to read what moved.

81 extractive reports (max_sections 4) through one daemon with the shipped models: the 36
Chinese corpus questions (tests/data/corpus/questions.jsonl and questions_dev.jsonl) as zh-01…
zh-36, report_quality.py's 4 Chinese bench topics as zh-37…zh-40 (zh-37 is the main job's), the
12 rubric topics of bench/data/report_topics/topics_zh.txt as zh-41…zh-52; the 20 English
questions as en-01…en-20, the 3 English bench topics as en-21…en-23 and the 6 rubric topics as
en-24…en-29 (the rubric's ZH-n and EN-n in file order).

    PYTHONPATH=build/python:sdk/python /usr/bin/python3 bench/report_probe.py OUT_DIR [--compare BEFORE_DIR]
        [--plans-dir DIR]

Starts its own daemon (build/bin/agentd) on a temporary data directory; --plans-dir serves
plans from DIR before the built-in ones (a copy of agentd/plans/ being changed, to try a change
without rebuilding). --compare prints the reports that differ from BEFORE_DIR's. About 3 minutes
on 2 cores.
"""

import argparse
import json
import os
import sys

from agentd_client import Client

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))
from bench_daemon import bench_daemon, ingest_corpus, shipped_model_flags  # noqa: E402
from report_quality import BROAD_TOPICS, BROAD_TOPICS_EN  # noqa: E402  (the bench topics, one list)


def lines(path):
    with open(path, encoding="utf-8") as f:
        return [line.strip() for line in f if line.strip()]


def questions(*paths):
    return [json.loads(line)["question"] for path in paths for line in lines(path)]


def probe_topics():
    data = os.path.join(ROOT, "tests", "data")
    rubric = os.path.join(ROOT, "bench", "data", "report_topics")
    zh = questions(os.path.join(data, "corpus", "questions.jsonl"), os.path.join(data, "corpus", "questions_dev.jsonl"))
    zh += BROAD_TOPICS + lines(os.path.join(rubric, "topics_zh.txt"))
    en = questions(os.path.join(data, "corpus_en", "questions.jsonl"))
    en += BROAD_TOPICS_EN + lines(os.path.join(rubric, "topics_en.txt"))
    return [("zh", "seeds", zh), ("en", "seeds_en", en)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--compare", help="a folder of reports written before, to list those that differ")
    parser.add_argument("--plans-dir", help="serve plans from this directory first")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)

    with bench_daemon(shipped_model_flags(args.plans_dir)) as (address, agentctl):
        for collection, corpus in [("seeds", "corpus"), ("seeds_en", "corpus_en")]:
            ingest_corpus(agentctl, collection, corpus)
        with Client(address, timeout=600) as client:
            for lang, collection, topics in probe_topics():
                for n, topic in enumerate(topics, 1):
                    run = client.run_to_end("report", {"topic": topic, "collection": collection, "max_sections": 4,
                                                       "style": "extractive"})
                    with open(os.path.join(args.out, "%s-%02d.md" % (lang, n)), "w", encoding="utf-8") as f:
                        f.write(run.artifact.content)
                    print("%s-%02d %s" % (lang, n, topic), flush=True)
    if args.compare:
        names = sorted(os.listdir(args.out))
        differ = []
        for name in names:
            before = os.path.join(args.compare, name)
            if not os.path.exists(before) or open(before, "rb").read() != open(os.path.join(args.out, name), "rb").read():
                differ.append(name)
        for name in differ:
            print("differs:", name)
        print("%d of %d reports byte-identical to %s" % (len(names) - len(differ), len(names), args.compare))


if __name__ == "__main__":
    main()
