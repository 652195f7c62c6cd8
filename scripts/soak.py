"""kill -9 soak: SIGKILLs agentd at random moments while runs execute and documents are being
ingested, restarts it on the same data directory, and checks after every restart that

- the data directory opens (the daemon starts and answers health),
- no acknowledged document is lost (each one is found by its unique word),
- no finished step runs again (a step SUCCEEDED before the kill keeps its attempts and output),

and at the end that every run reaches a final state with the right result.

    PYTHONPATH=build/python:sdk/python /usr/bin/python3 scripts/soak.py [--trials 50] [--seed 1]

Prints one line per trial and a summary; exits non-zero on any violation.
"""

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time

import grpc

from agentd_client import Client
from agentd.v1 import agent_pb2, memory_pb2

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
PLAN = """
plan{name = "soak", run = function(ctx, inputs)
  local total = 0
  for i = 1, inputs.steps do
    local out = ctx.step("s" .. i, function()
      local x = 0
      for k = 1, inputs.spins do x = x + (k * i) % 7 end
      return {i = i, x = x}
    end)
    total = total + out.x
  end
  return {content = tostring(total)}
end}
"""
STEPS, SPINS = 6, 8000000  # a step takes about half a second, a run about 3 s: kills land mid-run


def expected_total():
    """The plan's result: (k * i) % 7 repeats every 7 values of k."""
    total = 0
    for i in range(1, STEPS + 1):
        cycle = [(k * i) % 7 for k in range(1, 8)]
        total += (SPINS // 7) * sum(cycle) + sum(cycle[:SPINS % 7])
    return total


class Daemon:
    def __init__(self, data_dir, work):
        self.data_dir, self.work, self.process = data_dir, work, None

    def start(self):
        port_file = os.path.join(self.work, "port")
        if os.path.exists(port_file):
            os.remove(port_file)
        log = open(os.path.join(self.work, "agentd.log"), "ab")
        # Runs outlast trials and pile up: the tenant's limit must not refuse them.
        config = os.path.join(self.work, "config.json")
        with open(config, "w") as f:
            json.dump({"runs": {"max_active_runs_per_tenant": 1000}}, f)
        self.process = subprocess.Popen(
            [os.path.join(ROOT, "build/bin/agentd"), "--listen", "127.0.0.1:0", "--data-dir", self.data_dir,
             "--port-file", port_file, "--model", "none", "--config", config], stderr=log)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"agentd exited with {self.process.returncode} at start (see {self.work}/agentd.log)")
            if os.path.exists(port_file) and open(port_file).read().strip():
                return "127.0.0.1:" + open(port_file).read().strip()
            time.sleep(0.05)
        raise RuntimeError("agentd did not start within 60 s")

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs-per-trial", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    work = tempfile.mkdtemp(prefix="agentd-soak-")
    daemon = Daemon(os.path.join(work, "data"), work)
    violations, acknowledged, runs, finished_steps = [], [], [], {}
    next_doc = 0
    checked_upto, checked, steps_checked = 0, 0, 0
    began = time.time()
    total = expected_total()

    for trial in range(1, args.trials + 1):
        address = daemon.start()
        client = Client(address, timeout=30)
        # The data directory opened; everything acknowledged before is still there.
        if trial == 1:
            client.create_collection("soak", embedding_model="none")
        # Every document acknowledged in the last trial (the writes a kill puts at risk) and a
        # sample of the older ones.
        older = acknowledged[:checked_upto]
        to_check = acknowledged[checked_upto:] + rng.sample(older, min(100, len(older)))
        checked_upto = len(acknowledged)
        checked += len(to_check)
        lost = []
        for doc_id, word in to_check:
            hits = client._call(client.memory.Search, memory_pb2.SearchRequest(
                collection="soak", query=word, k=1, mode=memory_pb2.SEARCH_MODE_LEXICAL)).hits
            if not hits or hits[0].document_id != doc_id:
                lost.append(doc_id)
        if lost:
            violations.append(f"trial {trial}: {len(lost)} acknowledged documents lost: {lost[:5]}")
        # Steps that had finished before the last kill were not run again.
        rerun = []
        steps_checked += sum(len(steps) for steps in finished_steps.values())
        for run_id, steps in finished_steps.items():
            run = client.get_run(run_id)
            now = {s.name: (s.attempts, s.output_json) for s in run.steps}
            for name, before in steps.items():
                if now.get(name) != before:
                    rerun.append(f"{run_id}/{name}: {before[0]} attempts → {now.get(name, ('missing',))[0]}")
        if rerun:
            violations.append(f"trial {trial}: finished steps ran again: {rerun[:5]}")

        for _ in range(args.runs_per_trial):
            runs.append(client.start_run("soak", {"steps": STEPS, "spins": SPINS}, plan_source=PLAN).run_id)
        # Ingest in the background until the kill; only what the daemon acknowledged counts.
        stop = threading.Event()

        def ingest():
            nonlocal next_doc
            while not stop.is_set():
                batch = []
                for _ in range(5):
                    next_doc += 1
                    batch.append((f"doc-{next_doc}", f"soakword{next_doc}x"))
                try:
                    client.ingest("soak", [{"id": d, "text": f"Document {d} holds the word {w}. " * 20}
                                           for d, w in batch])
                    acknowledged.extend(batch)
                except grpc.RpcError:
                    return  # the daemon died mid-call: not acknowledged
                time.sleep(0.02)

        thread = threading.Thread(target=ingest)
        thread.start()
        time.sleep(rng.uniform(0.2, 2.5))
        # What had finished just before the kill (anything finishing after this is not checked).
        for run_id in runs:
            try:
                run = client.get_run(run_id)
            except grpc.RpcError:
                continue
            finished_steps[run_id] = {s.name: (s.attempts, s.output_json) for s in run.steps
                                      if s.state == agent_pb2.STEP_STATE_SUCCEEDED}
        daemon.kill()
        stop.set()
        thread.join()
        client.close()
        print(f"trial {trial:3d}: killed after {len(acknowledged)} documents acknowledged, {len(runs)} runs started",
              flush=True)

    # The last start: every run must end, with the right result.
    address = daemon.start()
    client = Client(address, timeout=30)
    states = {}
    deadline = time.time() + 600
    pending = list(runs)
    while pending and time.time() < deadline:
        still = []
        for run_id in pending:
            run = client.get_run(run_id)
            if run.state in (agent_pb2.RUN_STATE_SUCCEEDED, agent_pb2.RUN_STATE_FAILED, agent_pb2.RUN_STATE_CANCELLED):
                states[run_id] = run
            else:
                still.append(run_id)
        pending = still
        time.sleep(0.5)
    if pending:
        violations.append(f"{len(pending)} runs never reached a final state")
    succeeded = sum(1 for r in states.values() if r.state == agent_pb2.RUN_STATE_SUCCEEDED)
    # Steps a kill interrupted (started again after the restart): proof the kills landed mid-run.
    interrupted_steps = sum(1 for r in states.values() for s in r.steps if s.attempts > 1)
    resumed_runs = sum(1 for r in states.values() if any(s.attempts > 1 for s in r.steps))
    crashed_out = [r for r in states.values() if r.state == agent_pb2.RUN_STATE_FAILED and "crashed the daemon" in r.error]
    other_failures = [r for r in states.values() if r.state != agent_pb2.RUN_STATE_SUCCEEDED and r not in crashed_out]
    wrong = [r.run_id for r in states.values() if r.state == agent_pb2.RUN_STATE_SUCCEEDED and r.artifact.content != str(total)]
    if wrong:
        violations.append(f"{len(wrong)} runs succeeded with a wrong result")
    if other_failures:
        violations.append(f"{len(other_failures)} runs failed otherwise: {other_failures[0].error}")
    daemon.stop()
    summary = {"trials": args.trials, "runs": len(runs), "succeeded": succeeded,
               "failed_as_crashing_the_daemon": len(crashed_out), "documents_acknowledged": len(acknowledged),
               "document_checks": checked, "finished_step_checks": steps_checked,
               "runs_interrupted_mid_step": resumed_runs, "steps_interrupted": interrupted_steps,
               "seconds": round(time.time() - began),
               "violations": violations}
    print(json.dumps(summary, ensure_ascii=False, indent=1))
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
