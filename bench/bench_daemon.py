"""The daemon a bench script talks to: build/bin/agentd on loopback with a temporary data
directory, given the script's own flags (--model, --embedding-model, --plans-dir ...), stopped
with SIGTERM when the `with` block ends.

    with bench_daemon(["--model", MODEL]) as (address, agentctl):
        subprocess.run(agentctl + ["memory", "create", "seeds"], check=True)
"""

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


@contextlib.contextmanager
def bench_daemon(flags):
    work = tempfile.mkdtemp(prefix="agentd-bench-")
    port_file = os.path.join(work, "port")
    log = open(os.path.join(work, "agentd.log"), "w")
    command = [os.path.join(ROOT, "build", "bin", "agentd"), "--listen", "127.0.0.1:0", "--data-dir",
               os.path.join(work, "data"), "--port-file", port_file] + flags
    daemon = subprocess.Popen(command, stderr=log)
    try:
        while not os.path.exists(port_file) or not open(port_file).read().strip():
            if daemon.poll() is not None:
                sys.exit("agentd exited; see " + log.name)
            time.sleep(0.1)
        address = "127.0.0.1:" + open(port_file).read().strip()
        yield address, [os.path.join(ROOT, "build", "bin", "agentctl"), "--addr", address]
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=60)


def shipped_model_flags(plans_dir=None):
    """The daemon's flags for the shipped models, and for a plans directory served first."""
    flags = ["--model", os.path.join(ROOT, "engine", "models", "agentd-default"),
             "--embedding-model", os.path.join(ROOT, "engine", "models", "agentd-embed")]
    return flags + (["--plans-dir", plans_dir] if plans_dir else [])


def ingest_corpus(agentctl, collection, corpus):
    """Creates `collection` and ingests tests/data/<corpus>/seeds into it."""
    subprocess.run(agentctl + ["memory", "create", collection], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(agentctl + ["memory", "ingest", collection, os.path.join(ROOT, "tests", "data", corpus, "seeds")],
                   check=True, stdout=subprocess.DEVNULL)
