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
        first = ("agentd_time_to_first_token_seconds_count", ())
        self.assertEqual(after[first], before.get(first, 0) + 1)
        inf_bucket = ("agentd_time_to_first_token_seconds_bucket", (("le", "+Inf"),))
        self.assertEqual(after[inf_bucket], after[first])
        # The scheduler's figures are there and have counted this request.
        self.assertGreaterEqual(after[("agentd_scheduler_requests_total", ())], 1)
        self.assertGreater(after[("agentd_kv_blocks_total", ())], 0)
        self.assertNotIn("SECRET-PROMPT-TEXT", text)


if __name__ == "__main__":
    unittest.main()
