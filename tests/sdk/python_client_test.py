"""The Python client against the real daemon (build/bin/agentd with the tiny test model): the
example script end to end, event streams with reconnection, failures, and tokens."""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import grpc

from agentd.v1 import agent_pb2
from agentd_client import Client, RunFailed

BIN = os.environ["AGENTD_BIN_DIR"]
DATA = os.environ["AGENTD_TEST_DATA_DIR"]
ROOT = os.environ["AGENTD_SOURCE_DIR"]
SEED = os.path.join(DATA, "corpus", "seeds", "000_37400ed1cf531c96.txt")
TOKEN = "python-client-token-0001"


class DaemonTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="agentd-py-")
        config = os.path.join(self.dir, "config.json")
        with open(config, "w") as f:
            json.dump({"auth": {"tokens": [{"token": TOKEN, "tenant": "py"}]}}, f)
        port_file = os.path.join(self.dir, "port")
        self.log = open(os.path.join(self.dir, "agentd.log"), "w")
        self.daemon = subprocess.Popen(
            [os.path.join(BIN, "agentd"), "--listen", "127.0.0.1:0", "--data-dir", os.path.join(self.dir, "data"),
             "--port-file", port_file, "--model", os.path.join(DATA, "models", "deepseek_v3_tiny_chat"),
             "--config", config], stderr=self.log)
        for _ in range(600):
            if os.path.exists(port_file):
                break
            self.assertIsNone(self.daemon.poll(), "agentd exited")
            time.sleep(0.05)
        with open(port_file) as f:
            self.addr = "127.0.0.1:" + f.read().strip()
        self.client = Client(self.addr, token=TOKEN)

    def tearDown(self):
        self.client.close()
        self.daemon.send_signal(signal.SIGTERM)
        self.daemon.wait(timeout=30)
        self.log.close()
        shutil.rmtree(self.dir)

    def ingest_seed(self):
        self.client.create_collection("seeds", embedding_model="none")
        with open(SEED, encoding="utf-8") as f:
            result = self.client.ingest("seeds", [{"text": f.read(), "title": "seed", "source": SEED}])
        self.assertEqual(len(result.results), 1)

    def test_example_streams_a_report(self):
        self.ingest_seed()
        out = os.path.join(self.dir, "report.md")
        env = dict(os.environ, AGENTD_TOKEN=TOKEN)
        done = subprocess.run([sys.executable, os.path.join(ROOT, "sdk", "python", "examples", "stream_report.py"),
                               "--addr", self.addr, "--collection", "seeds", "--topic", "AI Agent market",
                               "--sections", "2", "--out", out], env=env, capture_output=True, text=True, timeout=300)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("step outline finished ok", done.stderr)
        self.assertIn("succeeded", done.stderr)
        with open(out, encoding="utf-8") as f:
            self.assertTrue(f.read().startswith("# "))

    def test_events_arrive_once_across_reconnects(self):
        run = self.client.start_run("report", {"topic": "AI Agent", "collection": "missing", "max_sections": 2})
        seen = []
        # Take two events at a time, dropping the stream in between.
        while not seen or not seen[-1].HasField("run_ended"):
            for event in self.client.follow_run(run.run_id, after_sequence=seen[-1].sequence if seen else 0):
                seen.append(event)
                if len(seen) % 2 == 0:
                    break
        self.assertEqual([e.sequence for e in seen], list(range(1, len(seen) + 1)))
        self.assertTrue(seen[0].HasField("run_started"))

    def test_failures_are_errors(self):
        with self.assertRaises(RunFailed) as failed:
            self.client.run_to_end("broken", {}, plan_source="plan{name = 'x', run = function(ctx) error('it broke', 0) end}")
        self.assertEqual(failed.exception.run.state, agent_pb2.RUN_STATE_FAILED)
        self.assertIn("it broke", failed.exception.run.error)
        # A plan that does not compile is refused before a run exists.
        with self.assertRaises(grpc.RpcError) as refused:
            self.client.run_to_end("broken", {}, plan_source="plan{name = 'x', run = function(ctx) return { end}")
        self.assertEqual(refused.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("inline plan 'broken'", refused.exception.details())
        with self.assertRaises(grpc.RpcError) as missing:
            self.client.get_run("run-none")
        self.assertEqual(missing.exception.code(), grpc.StatusCode.NOT_FOUND)
        with Client(self.addr) as anonymous, self.assertRaises(grpc.RpcError) as denied:
            anonymous.get_run("run-none")
        self.assertEqual(denied.exception.code(), grpc.StatusCode.UNAUTHENTICATED)
        runs = list(self.client.list_runs())
        self.assertEqual(len(runs), 1)


if __name__ == "__main__":
    unittest.main()
