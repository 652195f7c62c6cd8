"""Load test with bounded threads: 1000 concurrent streaming Generate calls and 100 concurrent
runs against one daemon on the shipped model. Every call must end OK or RESOURCE_EXHAUSTED (never
hang, never another error), and the daemon's thread count (sampled from /proc every 50 ms) must
stay bounded by its configuration, not grow with the number of callers.

    PYTHONPATH=build/python:sdk/python /usr/bin/python3 scripts/load_test.py [--streams 1000] [--runs 100]

Prints a JSON summary; exits non-zero on a violation.
"""

import argparse
import asyncio
import collections
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

import grpc

from agentd.v1 import agent_pb2, agent_pb2_grpc, model_pb2, model_pb2_grpc

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
PLAN = """
plan{name = "load", run = function(ctx, inputs)
  local out = ctx.step("write", function()
    return {text = ctx.llm.generate{prompt = "AI Agent market", max_tokens = 16}.text}
  end)
  return {content = out.text}
end}
"""


def threads_of(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return 0


async def one_stream(stub, i, outcomes):
    request = model_pb2.GenerateRequest(prompt=f"request {i}: the market", max_tokens=32)
    try:
        async for _ in stub.Generate(request, timeout=300):
            pass
        outcomes["OK"] += 1
    except grpc.aio.AioRpcError as e:
        outcomes[e.code().name] += 1
        if e.code() != grpc.StatusCode.RESOURCE_EXHAUSTED:
            outcomes["examples"].append(f"{e.code().name}: {e.details()}")


async def one_run(stub, i, outcomes):
    try:
        started = await stub.StartRun(agent_pb2.StartRunRequest(plan="load", plan_source=PLAN, inputs_json="{}"),
                                      timeout=60)
    except grpc.aio.AioRpcError as e:
        outcomes[e.code().name] += 1
        if e.code() != grpc.StatusCode.RESOURCE_EXHAUSTED:
            outcomes["examples"].append(f"{e.code().name}: {e.details()}")
        return
    deadline = time.time() + 600
    while time.time() < deadline:
        run = await stub.GetRun(agent_pb2.GetRunRequest(run_id=started.run.run_id), timeout=60)
        if run.state in (agent_pb2.RUN_STATE_SUCCEEDED, agent_pb2.RUN_STATE_FAILED, agent_pb2.RUN_STATE_CANCELLED):
            outcomes[agent_pb2.RunState.Name(run.state)] += 1
            if run.state != agent_pb2.RUN_STATE_SUCCEEDED:
                outcomes["examples"].append(run.error)
            return
        await asyncio.sleep(0.2)
    outcomes["never ended"] += 1


async def drive(address, streams, runs):
    options = [("grpc.max_concurrent_streams", 4096)]
    async with grpc.aio.insecure_channel(address, options=options) as channel:
        model = model_pb2_grpc.ModelServiceStub(channel)
        agents = agent_pb2_grpc.AgentServiceStub(channel)
        stream_outcomes = collections.Counter()
        run_outcomes = collections.Counter()
        stream_outcomes["examples"] = []
        run_outcomes["examples"] = []
        tasks = [one_stream(model, i, stream_outcomes) for i in range(streams)]
        tasks += [one_run(agents, i, run_outcomes) for i in range(runs)]
        await asyncio.gather(*tasks)
        return stream_outcomes, run_outcomes


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--max-streams", type=int, default=256,
                        help="engine.max_streams for the daemon (4096 shows what an unbounded daemon does)")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="agentd-load-")
    port_file = os.path.join(work, "port")
    config = os.path.join(work, "config.json")
    # The tenant's run limit above the number of runs, so runs queue for the workers rather
    # than being refused at the door.
    with open(config, "w") as f:
        json.dump({"runs": {"max_active_runs_per_tenant": args.runs + 10},
                   "engine": {"max_streams": args.max_streams}}, f)
    log = open(os.path.join(work, "agentd.log"), "wb")
    daemon = subprocess.Popen([os.path.join(ROOT, "build/bin/agentd"), "--listen", "127.0.0.1:0", "--data-dir",
                               os.path.join(work, "data"), "--port-file", port_file, "--config", config], stderr=log)
    while not (os.path.exists(port_file) and open(port_file).read().strip()):
        if daemon.poll() is not None:
            sys.exit(f"agentd exited at start: see {work}/agentd.log")
        time.sleep(0.05)
    address = "127.0.0.1:" + open(port_file).read().strip()
    idle_threads = threads_of(daemon.pid)
    peak = [idle_threads]
    done = threading.Event()

    def sample():
        while not done.is_set():
            try:
                peak[0] = max(peak[0], threads_of(daemon.pid))
            except OSError:
                return
            time.sleep(0.05)

    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.time()
    try:
        streams, runs = asyncio.run(drive(address, args.streams, args.runs))
    except BaseException:
        daemon.kill()
        raise
    finally:
        done.set()
        sampler.join()
    seconds = time.time() - started
    alive = daemon.poll() is None
    daemon.send_signal(signal.SIGTERM)
    code = daemon.wait(timeout=60)
    violations = []
    bad_streams = {k: v for k, v in streams.items() if k not in ("OK", "RESOURCE_EXHAUSTED", "examples")}
    bad_runs = {k: v for k, v in runs.items() if k not in ("RUN_STATE_SUCCEEDED", "RESOURCE_EXHAUSTED", "examples")}
    if bad_streams:
        violations.append(f"streams ended otherwise: {bad_streams} {streams['examples'][:3]}")
    if bad_runs:
        violations.append(f"runs ended otherwise: {bad_runs} {runs['examples'][:3]}")
    # The bound: engine.max_streams streaming threads + runs.workers (4) × ctx.map (16) +
    # the fixed pool; nothing proportional to 1000 callers.
    bound = args.max_streams + 4 * 16 + 64
    if peak[0] > bound:
        violations.append(f"thread peak {peak[0]} above the bound {bound}")
    if not alive or code != 0:
        violations.append(f"daemon alive={alive}, exit code {code}")
    summary = {"streams": args.streams, "runs": args.runs, "seconds": round(seconds, 1),
               "stream_outcomes": {k: v for k, v in streams.items() if k != "examples"},
               "run_outcomes": {k: v for k, v in runs.items() if k != "examples"},
               "threads_idle": idle_threads, "threads_peak": peak[0], "thread_bound": bound,
               "daemon_exit_code": code, "violations": violations}
    print(json.dumps(summary, indent=1))
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
