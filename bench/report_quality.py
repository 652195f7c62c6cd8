#!/usr/bin/python3
"""What the report plan gets out of a model: runs `report` on topics over the seed corpus and
measures outline validity (JSON that parses and matches the plan's schema), the share of draft
sentences carrying a valid citation, references per report, and wall time per run.

    PYTHONPATH=build/python:sdk/python /usr/bin/python3 bench/report_quality.py \
        --model engine/models/agentd-default --runs 6

Starts its own daemon (build/bin/agentd) on a temporary data directory.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

from agentd_client import Client

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
TOPICS = [
    "中国AI Agent市场规模与增长", "DeepSeek-R1 的推理能力与评测结果", "英伟达股价与 DeepSeek 的影响",
    "AI Agent market size and growth", "DeepSeek model training cost", "大模型对传媒行业的影响",
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--runs", type=int, default=len(TOPICS))
    parser.add_argument("--sections", type=int, default=3)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="agentd-bench-")
    port_file = os.path.join(work, "port")
    log = open(os.path.join(work, "agentd.log"), "w")
    daemon = subprocess.Popen([os.path.join(ROOT, "build", "bin", "agentd"), "--listen", "127.0.0.1:0", "--data-dir",
                               os.path.join(work, "data"), "--port-file", port_file, "--model", args.model], stderr=log)
    try:
        while not os.path.exists(port_file):
            if daemon.poll() is not None:
                sys.exit("agentd exited; see " + log.name)
            time.sleep(0.1)
        client = Client("127.0.0.1:" + open(port_file).read().strip(), timeout=60)
        client.create_collection("seeds", embedding_model="none")
        seeds = os.path.join(ROOT, "tests", "data", "corpus", "seeds")
        for name in sorted(os.listdir(seeds)):
            text = open(os.path.join(seeds, name), encoding="utf-8").read()
            client.ingest("seeds", [{"text": text, "title": name, "source": name}])
        rows = []
        for topic in (TOPICS * 2)[:args.runs]:
            start = time.time()
            run = client.start_run("report", {"topic": topic, "collection": "seeds", "max_sections": args.sections})
            for _ in client.follow_run(run.run_id, include_tokens=False):
                pass
            run = client.get_run(run.run_id)
            seconds = time.time() - start
            steps = {s.name: s for s in run.steps}
            outline = json.loads(steps["outline"].output_json) if "outline" in steps and steps["outline"].output_json else None
            outline_ok = bool(outline) and isinstance(outline.get("title"), str) and 2 <= len(outline.get("sections", [])) <= args.sections
            sentences = cited = 0
            for name, step in steps.items():
                if name.startswith("revise/") and step.output_json:
                    out = json.loads(step.output_json)
                    sentences += out.get("sentences", 0)
                    cited += out.get("cited_sentences", 0)
            rows.append({"topic": topic, "state": run.state, "error": run.error, "outline_valid": outline_ok,
                         "sentences": sentences, "cited_sentences": cited,
                         "references": len(run.artifact.references), "seconds": round(seconds, 1),
                         "completion_tokens": run.usage.completion_tokens})
            print(json.dumps(rows[-1], ensure_ascii=False), flush=True)
        succeeded = [r for r in rows if r["state"] == 3]
        total_sentences = sum(r["sentences"] for r in rows)
        summary = {
            "runs": len(rows), "succeeded": len(succeeded),
            "outline_valid": sum(r["outline_valid"] for r in rows) / len(rows),
            "cited_sentence_share": (sum(r["cited_sentences"] for r in rows) / total_sentences) if total_sentences else 0.0,
            "references_per_report": sum(r["references"] for r in rows) / len(rows),
            "seconds_per_run": sum(r["seconds"] for r in rows) / len(rows),
            "completion_tokens_per_second": sum(r["completion_tokens"] for r in rows) / max(1e-9, sum(r["seconds"] for r in rows)),
        }
        print(json.dumps(summary), flush=True)
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=60)


if __name__ == "__main__":
    main()
