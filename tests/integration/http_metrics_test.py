"""GET /metrics of the real daemon read by the Prometheus client library's own text-format parser
(python3-prometheus-client): every family parses, the counters and histograms move as HTTP
requests are served, and no label carries a tenant or a prompt."""

import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from agentd_client import Client

PLAN = """
plan{name = "metered", run = function(ctx, inputs)
  local sum = ctx.step("add", function() return ctx.tools.call("calculator", {expression = "6 * 7"}).result end)
  ctx.step("search", function() return ctx.memory.search{collection = "notes", query = "cloud", k = 1} end)
  ctx.step("write", function() return ctx.llm.generate{prompt = "The cloud market", max_tokens = 3}.text end)
  return {media_type = "text/plain", content = tostring(sum)}
end}
"""

BIN = os.environ["AGENTD_BIN_DIR"]


class MetricsTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="agentd-metrics-")
        self.log = open(os.path.join(self.dir, "agentd.log"), "w")
        port_file = os.path.join(self.dir, "port")
        http_port_file = os.path.join(self.dir, "http_port")
        self.daemon = subprocess.Popen(
            [os.path.join(BIN, "agentd"), "--listen", "127.0.0.1:0", "--data-dir", os.path.join(self.dir, "data"),
             "--port-file", port_file, "--http-listen", "127.0.0.1:0", "--http-port-file", http_port_file],
            stderr=self.log)
        for _ in range(600):
            if os.path.exists(port_file):
                break
            self.assertIsNone(self.daemon.poll(), "agentd exited")
            time.sleep(0.1)
        with open(http_port_file) as f:
            self.url = "http://127.0.0.1:%s" % f.read().strip()
        with open(port_file) as f:
            self.grpc_address = "127.0.0.1:%s" % f.read().strip()

    def tearDown(self):
        self.daemon.terminate()
        self.daemon.wait(timeout=30)
        self.log.close()
        shutil.rmtree(self.dir)

    def metrics(self):
        with urllib.request.urlopen(self.url + "/metrics") as response:
            text = response.read().decode()
        samples = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
        return text, samples

    def chat(self, prompt):
        body = json.dumps({"messages": [{"role": "user", "content": prompt}], "max_tokens": 8, "temperature": 0}).encode()
        request = urllib.request.Request(self.url + "/v1/chat/completions", data=body,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request) as response:
            return json.loads(response.read())

    def test_counters_and_histograms_move_as_requests_are_served(self):
        _, before = self.metrics()
        reply = self.chat("SECRET-PROMPT-TEXT about the cloud market")
        text, after = self.metrics()
        ok = ("agentd_http_requests_total", (("code", "200"), ("endpoint", "chat_completions")))
        self.assertEqual(after[ok], before.get(ok, 0) + 1)
        tokens = ("agentd_http_completion_tokens_total", (("endpoint", "chat_completions"),))
        self.assertEqual(after[tokens], before.get(tokens, 0) + reply["usage"]["completion_tokens"])
        first = ("agentd_time_to_first_token_seconds_count", (("origin", "http"),))
        self.assertEqual(after[first], before.get(first, 0) + 1)
        inf_bucket = ("agentd_time_to_first_token_seconds_bucket", (("le", "+Inf"), ("origin", "http")))
        self.assertEqual(after[inf_bucket], after[first])
        # Every generation is counted by who asked, with its tokens.
        generated = ("agentd_completion_tokens_total", (("origin", "http"),))
        self.assertEqual(after[generated], before.get(generated, 0) + reply["usage"]["completion_tokens"])
        gaps = ("agentd_inter_token_latency_seconds_count", (("origin", "http"),))
        self.assertEqual(after.get(gaps, 0), before.get(gaps, 0) + reply["usage"]["completion_tokens"] - 1)
        # The scheduler's figures are there and have counted this request.
        self.assertGreaterEqual(after[("agentd_scheduler_requests_total", ())], 1)
        self.assertGreater(after[("agentd_kv_blocks_total", ())], 0)
        self.assertNotIn("SECRET-PROMPT-TEXT", text)

    def test_runs_steps_tool_calls_and_memory_searches_are_counted(self):
        with Client(self.grpc_address) as client:
            client.create_collection("notes")
            client.ingest("notes", [{"text": "Cloud computing grew fast in 2024.", "id": "n1"}])
            _, before = self.metrics()
            run = client.run_to_end("metered", plan_source=PLAN)
            self.assertEqual(run.state, 3, run.error)  # SUCCEEDED
        text, after = self.metrics()
        self.assertEqual(after[("agentd_runs_ended_total", (("state", "SUCCEEDED"),))],
                         before.get(("agentd_runs_ended_total", (("state", "SUCCEEDED"),)), 0) + 1)
        self.assertEqual(after[("agentd_steps_ended_total", (("state", "SUCCEEDED"),))],
                         before.get(("agentd_steps_ended_total", (("state", "SUCCEEDED"),)), 0) + 3)
        # The plan step's model call: a generation whose origin is the plan, with its latency.
        plans = ("agentd_generations_total", (("origin", "plan"),))
        self.assertEqual(after[plans], before.get(plans, 0) + 1)
        plan_first = ("agentd_time_to_first_token_seconds_count", (("origin", "plan"),))
        self.assertEqual(after[plan_first], before.get(plan_first, 0) + 1)
        self.assertGreater(after[("agentd_completion_tokens_total", (("origin", "plan"),))], 0)
        calls = ("agentd_tool_calls_total", (("outcome", "ok"), ("tool", "calculator")))
        self.assertEqual(after[calls], before.get(calls, 0) + 1)
        searches = ("agentd_memory_search_seconds_count", ())
        self.assertGreaterEqual(after[searches], before.get(searches, 0) + 1)
        self.assertEqual(after[("agentd_step_duration_seconds_count", ())],
                         before.get(("agentd_step_duration_seconds_count", ()), 0) + 3)
        # The plan's step names are the tenant's words: no label carries them.
        self.assertNotIn('"add"', text)

    def test_grpc_calls_are_counted_by_method_and_code(self):
        import grpc
        create = "/agentd.v1.MemoryService/CreateCollection"
        _, before = self.metrics()
        with Client(self.grpc_address) as client:
            client.create_collection("calls")
            with self.assertRaises(Exception):
                client.create_collection("calls")  # ALREADY_EXISTS
        # A method the daemon does not define: counted, but under "unknown", never its name.
        with grpc.insecure_channel(self.grpc_address) as channel:
            with self.assertRaises(grpc.RpcError) as refused:
                channel.unary_unary("/agentd.v1.SecretService/LeakMe")(b"", timeout=10)
            self.assertEqual(refused.exception.code(), grpc.StatusCode.UNIMPLEMENTED)
        text, after = self.metrics()
        def delta(name, labels):
            key = (name, tuple(sorted(labels.items())))
            return after.get(key, 0) - before.get(key, 0)
        self.assertEqual(delta("agentd_grpc_requests_total", {"method": create, "code": "OK"}), 1)
        self.assertEqual(delta("agentd_grpc_requests_total", {"method": create, "code": "ALREADY_EXISTS"}), 1)
        self.assertEqual(delta("agentd_grpc_request_duration_seconds_count", {"method": create}), 2)
        self.assertEqual(delta("agentd_grpc_request_duration_seconds_bucket", {"method": create, "le": "+Inf"}), 2)
        self.assertEqual(delta("agentd_grpc_requests_total", {"method": "unknown", "code": "UNIMPLEMENTED"}), 1)
        self.assertNotIn("SecretService", text)
        self.assertNotIn("LeakMe", text)


if __name__ == "__main__":
    unittest.main()
