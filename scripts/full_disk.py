"""A full disk: runs agentd with its data directory on a small ext4 image (loop-mounted; needs
root), fills the disk while the daemon works, frees it, restarts, and checks that

- the daemon never dies, and refuses writes with RESOURCE_EXHAUSTED while the disk is full,
- reads (search, runs) answer as before while it is full,
- writes work again once space is freed, without a restart,
- a run whose checkpoint no longer fits fails, and its event stream ends,
- nothing acknowledged is lost and nothing refused appears, across the restart (every document
  found by a word only it holds; vector results for fixed queries the same before and after).

    PYTHONPATH=build/python:sdk/python /usr/bin/python3 scripts/full_disk.py [--image-mb 256]

Uses the shipped models (the seed reports are embedded: a few minutes on 2 cores). Prints what
each phase saw and exits non-zero on any violation. RELIABILITY.md, "A full disk".
"""

import argparse
import glob
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import grpc

from agentd_client import Client
from agentd.v1 import agent_pb2, memory_pb2

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
SEEDS = sorted(glob.glob(os.path.join(ROOT, "tests/data/corpus/seeds/*.txt")))
# Every checkpoint rewrites the run's record, which grows by 512 KiB a step.
GROWING_PLAN = """
plan{name = "growing", run = function(ctx, inputs)
  for i = 1, 30 do
    ctx.step("b" .. i, function() return string.rep(string.char(65 + i % 26), 512 * 1024) end)
  end
  return {content = "done"}
end}
"""
QUERIES = ["2023年中国AI Agent市场规模是多少？", "DeepSeek 训练成本", "云计算市场增速", "GPU 算力需求", "AI 应用发展风险"]
violations = []


def check(condition, what):
    if not condition:
        violations.append(what)
        print("VIOLATION:", what, flush=True)


def documents(count):
    """Slices of the seed reports, each with a word only it holds (zqNNNNx)."""
    texts = [open(path, encoding="utf-8").read() for path in SEEDS]
    rng = random.Random(1)
    out = []
    for i in range(count):
        text = texts[i % len(texts)]
        start = rng.randrange(0, max(1, len(text) - 6000))
        out.append((f"doc{i:04d}", f"document {i}, word zq{i:04d}x\n\n{text[start:start + 6000]}\n"))
    return out


class Daemon:
    def __init__(self, data_dir, work):
        self.data_dir, self.work, self.process = data_dir, work, None

    def start(self):
        port_file = os.path.join(self.work, "port")
        if os.path.exists(port_file):
            os.remove(port_file)
        self.process = subprocess.Popen(
            [os.path.join(ROOT, "build/bin/agentd"), "--listen", "127.0.0.1:0", "--data-dir", self.data_dir,
             "--port-file", port_file], stderr=open(os.path.join(self.work, "agentd.log"), "ab"))
        deadline = time.time() + 120
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"agentd exited with {self.process.returncode} at start (see {self.work}/agentd.log)")
            if os.path.exists(port_file) and open(port_file).read().strip():
                return Client("127.0.0.1:" + open(port_file).read().strip(), timeout=300)
            time.sleep(0.1)
        raise RuntimeError("agentd did not serve within 120 s")

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        check(self.process.wait(timeout=120) == 0, "a clean exit on SIGTERM")

    def alive(self):
        return self.process.poll() is None


def fill(mount, name):
    """Takes every free block of the disk."""
    with open(os.path.join(mount, name), "wb") as f:
        block = b"f" * (1 << 20)
        try:
            while True:
                f.write(block)
                f.flush()
        except OSError:
            pass
        try:
            while True:
                f.write(b"f" * 4096)
                f.flush()
        except OSError:
            pass


def ingest(client, docs):
    """Per document: None when acknowledged, else the gRPC code and message."""
    outcomes = []
    for doc_id, text in docs:
        try:
            client.ingest("reports", [dict(id=doc_id, text=text)])
            outcomes.append(None)
        except grpc.RpcError as error:
            outcomes.append((error.code().name, error.details()))
    return outcomes


def snapshot(client):
    """Which documents are found by their own word, and the vector results of QUERIES."""
    found = []
    for i in range(100):
        hits = client.memory.Search(memory_pb2.SearchRequest(collection="reports", query=f"zq{i:04d}x", k=1,
                                                             mode=memory_pb2.SEARCH_MODE_LEXICAL)).hits
        if hits and hits[0].document_id == f"doc{i:04d}":
            found.append(i)
    vectors = []
    for query in QUERIES:
        hits = client.memory.Search(memory_pb2.SearchRequest(collection="reports", query=query, k=10,
                                                             mode=memory_pb2.SEARCH_MODE_VECTOR)).hits
        vectors.append([(h.document_id, h.span.start, h.span.end, round(h.score, 5)) for h in hits])
    stats = client.memory.Stats(memory_pb2.StatsRequest(collection="reports"))
    return found, vectors, (stats.collection.document_count, stats.collection.chunk_count, stats.vector_count)


def listed(client, run_id):
    """The run as ListRuns shows it (without its steps' outputs, which outgrow a reply here)."""
    return next(r for r in client.list_runs(page_size=100) if r.run_id == run_id)


def runs(client):
    return {r.run_id: agent_pb2.RunState.Name(r.state) for r in client.list_runs(page_size=100)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--image-mb", type=int, default=256)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="agentd-full-disk-")
    image, mount = os.path.join(work, "disk.img"), os.path.join(work, "mnt")
    os.makedirs(mount)
    subprocess.run(["truncate", "-s", f"{args.image_mb}M", image], check=True)
    subprocess.run(["mkfs.ext4", "-q", "-m", "0", image], check=True)
    subprocess.run(["mount", "-o", "loop", image, mount], check=True)
    daemon = Daemon(os.path.join(mount, "data"), work)
    docs = documents(30)
    try:
        client = daemon.start()
        client.create_collection("reports")
        ingest(client, [(os.path.basename(p), open(p, encoding="utf-8").read()) for p in SEEDS])
        check(ingest(client, docs[:20]) == [None] * 20, "the baseline ingest")
        client.run_to_end("report", {"topic": "中国AI Agent市场规模与增长", "collection": "reports"})
        baseline, baseline_runs = snapshot(client), runs(client)
        print("baseline: documents, chunks, vectors", baseline[2], flush=True)
        daemon.stop()  # a restart: empty memtables meet the full disk

        client = daemon.start()
        growing = client.start_run("growing", plan_source=GROWING_PLAN)
        fill(mount, "filler-1")
        refused = ingest(client, docs[20:30])
        codes = sorted({outcome[0] for outcome in refused if outcome})
        print("ingest on the full disk:", codes, refused[0][1] if refused[0] else "", flush=True)
        check(all(outcome and outcome[0] == "RESOURCE_EXHAUSTED" for outcome in refused), "ingest refused as RESOURCE_EXHAUSTED")
        try:
            client.start_run("report", {"topic": "x", "collection": "reports"})
            violations.append("a run started on the full disk")
        except grpc.RpcError as error:
            print("StartRun on the full disk:", error.code().name, flush=True)
            check(error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, "StartRun refused as RESOURCE_EXHAUSTED")
        started = time.time()
        events = list(client.follow_run(growing.run_id))
        ended = listed(client, growing.run_id)
        print(f"the growing run: {agent_pb2.RunState.Name(ended.state)} after {len(ended.steps)} steps, its stream ended "
              f"after {time.time() - started:.1f} s with {len(events)} events: {ended.error[:160]}", flush=True)
        check(ended.state == agent_pb2.RUN_STATE_FAILED and "is full" in ended.error, "the growing run failed naming the disk")
        full = snapshot(client)
        check(full == baseline, "reads on the full disk answer as before")
        check({k: v for k, v in runs(client).items() if k in baseline_runs} == baseline_runs, "runs listed as before")
        check(daemon.alive(), "the daemon lives on the full disk")

        for name in glob.glob(os.path.join(mount, "filler-*")):
            os.remove(name)
        accepted = ingest(client, docs[20:30])
        print("ingest once freed:", sum(outcome is None for outcome in accepted), "of", len(accepted), flush=True)
        check(accepted == [None] * 10, "ingest works again without a restart")
        report = client.run_to_end("report", {"topic": "中国AI Agent市场规模与增长", "collection": "reports"})
        check(report.state == agent_pb2.RUN_STATE_SUCCEEDED, "a run works again without a restart")
        freed = snapshot(client)
        daemon.stop()

        client = daemon.start()
        restarted = snapshot(client)
        print("after the restart: documents, chunks, vectors", restarted[2], flush=True)
        check(restarted == freed, "the restart finds what was acknowledged, vector results the same")
        check(restarted[0] == list(range(30)), "every acknowledged document is found by its word")
        check(listed(client, growing.run_id).state == agent_pb2.RUN_STATE_FAILED, "the failed run stays failed")
        daemon.stop()
    finally:
        if daemon.process and daemon.alive():
            daemon.process.kill()
        subprocess.run(["umount", mount])
        print(f"(work directory, with agentd.log: {work})")
    print("violations:", len(violations))
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
