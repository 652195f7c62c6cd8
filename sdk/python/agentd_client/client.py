"""A thin wrapper over the generated agentd.v1 stubs: one channel, the API token on every call,
and a run-event iterator that reconnects without losing or repeating events."""

import json
import time

import grpc

from agentd.v1 import agent_pb2, agent_pb2_grpc, memory_pb2, memory_pb2_grpc

TERMINAL_STATES = (
    agent_pb2.RUN_STATE_SUCCEEDED,
    agent_pb2.RUN_STATE_FAILED,
    agent_pb2.RUN_STATE_CANCELLED,
)


class RunFailed(Exception):
    """A run ended FAILED or CANCELLED; `run` is the agentd.v1.Run."""

    def __init__(self, run):
        super().__init__("run %s %s: %s" % (run.run_id, agent_pb2.RunState.Name(run.state), run.error))
        self.run = run


class Client:
    """A connection to one daemon.

    address: "host:port". token: API token (sent as "authorization: Bearer TOKEN") or None.
    tls_ca: path of a PEM root-certificate file for TLS, or None for plaintext.
    timeout: seconds per unary call.
    """

    def __init__(self, address="127.0.0.1:7700", token=None, tls_ca=None, timeout=10.0):
        if tls_ca:
            with open(tls_ca, "rb") as f:
                credentials = grpc.ssl_channel_credentials(root_certificates=f.read())
            self._channel = grpc.secure_channel(address, credentials)
        else:
            self._channel = grpc.insecure_channel(address)
        self._metadata = (("authorization", "Bearer " + token),) if token else ()
        self._timeout = timeout
        self.agents = agent_pb2_grpc.AgentServiceStub(self._channel)
        self.memory = memory_pb2_grpc.MemoryServiceStub(self._channel)

    def close(self):
        self._channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _call(self, method, request):
        return method(request, timeout=self._timeout, metadata=self._metadata)

    # --- runs ---

    def start_run(self, plan, inputs=None, plan_source="", idempotency_key="", labels=None,
                  deadline_seconds=0, max_tokens=0, max_tool_calls=0):
        """Starts a run of `plan` with `inputs` (a dict) and returns the agentd.v1.Run."""
        request = agent_pb2.StartRunRequest(
            plan=plan,
            plan_source=plan_source,
            inputs_json=json.dumps(inputs or {}, ensure_ascii=False),
            idempotency_key=idempotency_key,
            labels=labels or {},
            limits=agent_pb2.RunLimits(deadline_seconds=deadline_seconds, max_tokens=max_tokens,
                                       max_tool_calls=max_tool_calls),
        )
        return self._call(self.agents.StartRun, request).run

    def get_run(self, run_id, include_transcripts=False):
        return self._call(self.agents.GetRun,
                          agent_pb2.GetRunRequest(run_id=run_id, include_transcripts=include_transcripts))

    def list_runs(self, states=(), plan="", page_size=50):
        """Yields the tenant's runs, newest first, across pages."""
        token = ""
        while True:
            page = self._call(self.agents.ListRuns, agent_pb2.ListRunsRequest(
                page_size=page_size, page_token=token, states=list(states), plan=plan))
            yield from page.runs
            token = page.next_page_token
            if not token:
                return

    def cancel_run(self, run_id, reason=""):
        return self._call(self.agents.CancelRun, agent_pb2.CancelRunRequest(run_id=run_id, reason=reason))

    def resume_run(self, run_id):
        return self._call(self.agents.ResumeRun, agent_pb2.ResumeRunRequest(run_id=run_id))

    def delete_run(self, run_id):
        """Deletes an ended run with its events and artifact (FAILED_PRECONDITION while it is active)."""
        self._call(self.agents.DeleteRun, agent_pb2.DeleteRunRequest(run_id=run_id))

    def follow_run(self, run_id, after_sequence=0, include_tokens=True, max_reconnects=10):
        """Yields the run's events (agentd.v1.RunEvent) after `after_sequence` until it ends.

        A dropped connection is re-opened after the last sequence seen, so every event comes
        exactly once.
        """
        cursor = after_sequence
        failures = 0
        while True:
            request = agent_pb2.StreamRunRequest(run_id=run_id, after_sequence=cursor,
                                                 include_tokens=include_tokens)
            try:
                for event in self.agents.StreamRun(request, metadata=self._metadata):
                    failures = 0
                    cursor = event.sequence
                    yield event
                return
            except grpc.RpcError as error:
                if error.code() != grpc.StatusCode.UNAVAILABLE or failures >= max_reconnects:
                    raise
                failures += 1
                time.sleep(0.2 * failures)

    def run_to_end(self, plan, inputs=None, on_event=None, **kwargs):
        """Starts a run, follows it to the end (passing each event to `on_event`) and returns the
        finished Run; raises RunFailed unless it SUCCEEDED."""
        run = self.start_run(plan, inputs, **kwargs)
        for event in self.follow_run(run.run_id):
            if on_event:
                on_event(event)
        run = self.get_run(run.run_id)
        if run.state != agent_pb2.RUN_STATE_SUCCEEDED:
            raise RunFailed(run)
        return run

    # --- memory (enough to prepare a collection for a run) ---

    def create_collection(self, name, embedding_model=""):
        return self._call(self.memory.CreateCollection,
                          memory_pb2.CreateCollectionRequest(name=name, embedding_model=embedding_model))

    def ingest(self, collection, documents):
        """documents: dicts with text and optionally id, title, source, date."""
        request = memory_pb2.IngestRequest(collection=collection)
        for d in documents:
            request.documents.add(**d)
        return self._call(self.memory.Ingest, request)
