#!/usr/bin/python3
"""Starts a `report` run on a collection, prints its progress as events stream in, and writes
the finished report.

    PYTHONPATH=build/python:sdk/python /usr/bin/python3 sdk/python/examples/stream_report.py \
        --addr 127.0.0.1:7700 --collection seeds --topic "中国AI Agent市场规模" --out report.md
"""

import argparse
import os
import sys

from agentd_client import Client, RunFailed


def describe(event):
    kind = event.WhichOneof("event")
    if kind == "step_started":
        return "step %s started (attempt %d)" % (event.step_started.step, event.step_started.attempt)
    if kind == "step_finished":
        f = event.step_finished
        return "step %s finished %s, %d tokens" % (f.step, "ok" if f.state == 3 else "with error " + f.error,
                                                  f.usage.completion_tokens)
    if kind == "retrieval_hits":
        return "retrieved %d passages for %r" % (len(event.retrieval_hits.hits), event.retrieval_hits.query)
    if kind == "warning":
        return "warning: " + event.warning.message
    if kind == "run_ended":
        return "run ended"
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addr", default=os.environ.get("AGENTD_ADDR", "127.0.0.1:7700"))
    parser.add_argument("--token", default=os.environ.get("AGENTD_TOKEN"))
    parser.add_argument("--collection", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--sections", type=int, default=3)
    parser.add_argument("--out", help="write the report here (default: standard output)")
    args = parser.parse_args()

    with Client(args.addr, token=args.token) as client:
        tokens = 0

        def on_event(event):
            nonlocal tokens
            if event.WhichOneof("event") == "token_delta":
                tokens += 1
                return
            line = describe(event)
            if line:
                print("[%d] %s" % (event.sequence, line), file=sys.stderr)

        try:
            run = client.run_to_end("report", {"topic": args.topic, "collection": args.collection,
                                               "max_sections": args.sections}, on_event=on_event)
        except RunFailed as failed:
            print("agentd: " + str(failed), file=sys.stderr)
            return 1
        print("run %s succeeded: %d references, %d token deltas streamed" %
              (run.run_id, len(run.artifact.references), tokens), file=sys.stderr)
        if args.out:
            with open(args.out, "w", encoding="utf-8") as f:
                f.write(run.artifact.content)
        else:
            sys.stdout.write(run.artifact.content)
    return 0


if __name__ == "__main__":
    sys.exit(main())
