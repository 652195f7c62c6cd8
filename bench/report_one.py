#!/usr/bin/python3
"""One report through its own daemon, with the run's warnings: to see why a probe report
(bench/report_probe.py) came out as it did. A copy of agentd/plans/ given with --plans-dir can
report what it ranks with ctx.warn("...") — printed here as the run emits them — without
rebuilding the daemon.

    PYTHONPATH=build/python:sdk/python /usr/bin/python3 bench/report_one.py "Why did arabica coffee prices rise?" \\
        --corpus corpus_en [--plans-dir DIR]

--corpus names tests/data/<corpus>/seeds (default: corpus, the Chinese seed corpus).
"""

import argparse
import os
import sys

from agentd_client import Client

sys.path.insert(0, os.path.dirname(__file__))
from bench_daemon import bench_daemon, ingest_corpus, shipped_model_flags  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("topic")
    parser.add_argument("--corpus", default="corpus", help="tests/data/<corpus>/seeds is ingested (default corpus)")
    parser.add_argument("--plans-dir", help="serve plans from this directory first")
    parser.add_argument("--max-sections", type=int, default=4)
    args = parser.parse_args()

    with bench_daemon(shipped_model_flags(args.plans_dir)) as (address, agentctl):
        ingest_corpus(agentctl, "docs", args.corpus)
        with Client(address, timeout=600) as client:
            def on_event(event):
                if event.HasField("warning"):
                    print("warning (%s): %s" % (event.warning.step, event.warning.message), flush=True)
            run = client.run_to_end("report", {"topic": args.topic, "collection": "docs", "max_sections": args.max_sections,
                                               "style": "extractive"}, on_event=on_event)
            sys.stdout.write(run.artifact.content)


if __name__ == "__main__":
    main()
