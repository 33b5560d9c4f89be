#!/usr/bin/env python3
# Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
"""pick -> HTTP GET -> report, n times, through ufc-agentd.

    clients/python/generate.sh /tmp/ufc-gen
    PYTHONPATH=/tmp/ufc-gen:clients/python /usr/bin/python3 \
        clients/python/examples/pick_get_report.py --agent 127.0.0.1:8877 --service echo -n 10

Each GET honours the pick's connect/read/write timeouts and sends the request's remaining
budget on as x-ufc-timeout-ms; failures are reported with include/ufc/outcome.h's mapping.
"""

import argparse
import http.client
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from ufc_agent import AgentClient, Refused, UfcAgentError, transport_of  # noqa: E402


def get(pick, path):
    """One GET to the picked backend: (http status or None, transport, seconds taken)."""
    start = time.monotonic()
    headers = {}
    if pick.deadline_remaining_ms is not None:
        headers["x-ufc-timeout-ms"] = str(pick.deadline_remaining_ms)
    conn = http.client.HTTPConnection(pick.host, pick.port, timeout=pick.connect_timeout)
    phase = "connect"
    try:
        conn.connect()
        conn.sock.settimeout(pick.write_timeout)
        phase = "write"
        conn.request("GET", path, headers=headers)
        conn.sock.settimeout(pick.read_timeout)
        phase = "read"
        response = conn.getresponse()
        response.read()
        return response.status, "ok", time.monotonic() - start
    except (OSError, http.client.HTTPException) as e:
        return None, transport_of(e, phase), time.monotonic() - start
    finally:
        conn.close()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--agent", default="127.0.0.1:8877", help="the local agent")
    p.add_argument("--backup", action="append", default=[], help="a backup agent (repeat)")
    p.add_argument("--service", default="echo")
    p.add_argument("--path", default="/")
    p.add_argument("--timeout_ms", type=int, help="each request's budget")
    p.add_argument("--token", help="the agents' token")
    p.add_argument("-n", type=int, default=10, help="requests")
    args = p.parse_args()

    failed = 0
    with AgentClient(args.agent, backups=args.backup, token=args.token) as client:
        for _ in range(args.n):
            try:
                pick = client.pick(args.service, timeout_ms=args.timeout_ms)
            except Refused as e:
                print("refused: %s: %s" % (e.reason, e.message))
                failed += 1
                continue
            except UfcAgentError as e:
                print("error: %s" % e)
                return 1
            status, transport, latency = get(pick, args.path)
            client.report(pick, http_status=status, transport=transport, latency=latency)
            print("%-21s %-9s %4.1f ms  via %s" % (pick.address, status or transport,
                                                   latency * 1000, pick.agent))
            failed += status is None or status >= 500
    return 1 if failed == args.n else 0


if __name__ == "__main__":
    sys.exit(main())
