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
import subprocess
import sys

from agentd_client import Client

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))
from bench_daemon import bench_daemon  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("topic")
    parser.add_argument("--corpus", default="corpus", help="tests/data/<corpus>/seeds is ingested (default corpus)")
    parser.add_argument("--plans-dir", help="serve plans from this directory first")
    parser.add_argument("--max-sections", type=int, default=4)
    args = parser.parse_args()

    flags = ["--model", os.path.join(ROOT, "engine", "models", "agentd-default"),
             "--embedding-model", os.path.join(ROOT, "engine", "models", "agentd-embed")]
    if args.plans_dir:
        flags += ["--plans-dir", args.plans_dir]
    with bench_daemon(flags) as (address, agentctl):
        subprocess.run(agentctl + ["memory", "create", "docs"], check=True, stdout=subprocess.DEVNULL)
        subprocess.run(agentctl + ["memory", "ingest", "docs", os.path.join(ROOT, "tests", "data", args.corpus, "seeds")],
                       check=True, stdout=subprocess.DEVNULL)
        with Client(address, timeout=600) as client:
            def on_event(event):
                if event.HasField("warning"):
                    print("warning (%s): %s" % (event.warning.step, event.warning.message), flush=True)
            run = client.run_to_end("report", {"topic": args.topic, "collection": "docs", "max_sections": args.max_sections,
                                               "style": "extractive"}, on_event=on_event)
            sys.stdout.write(run.artifact.content)


if __name__ == "__main__":
    main()
