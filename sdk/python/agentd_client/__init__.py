"""Python client for agentd: start agent runs, stream their events, read reports.

    from agentd_client import Client
    with Client("127.0.0.1:7700", token=None) as client:
        run = client.start_run("report", {"topic": "...", "collection": "seeds"})
        for event in client.follow_run(run.run_id):
            print(event.WhichOneof("event"))
        print(client.get_run(run.run_id).artifact.content)

The generated gRPC stubs (agentd.v1.*_pb2, *_pb2_grpc) are built by CMake into build/python;
put that directory and this one on PYTHONPATH.
"""

from agentd_client.client import Client, RunFailed, TERMINAL_STATES

__all__ = ["Client", "RunFailed", "TERMINAL_STATES"]
