#!/usr/bin/env python3
# Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
"""The Python client against a real ufc-agentd and real backends, end to end.

    python3 tests/agent/python/agent_e2e_test.py --agentd build/agentd/ufc-agentd \
        --backend build/examples/backend [--gen DIR]     (exit code 0: pass)

Scenarios, on 127.0.0.1 ephemeral ports: three backends (two healthy, one refusing
connections) behind one agent with round robin and a ban after 3 consecutive transport
failures:
  * 60 picks -> real HTTP GETs -> reports: the refusing backend is picked until its third
    refusal, then never again; the healthy two share the rest evenly;
  * query("endpoints^echo") shows it with ban state "banned";
  * a pick carries the config's timeouts, the endpoint's tags and a 16-byte ticket; a pick
    with timeout_ms has its deadline and timeouts capped to the budget, one without has no
    deadline (the client puts no gRPC deadline on the call), a spent budget is refused;
  * an injected abort (a fault rule) comes without endpoint or ticket and reporting it
    does nothing; an injected delay comes with its endpoint; both are counted apart;
  * a forged ticket is INVALID_ARGUMENT or NOT_FOUND, a malformed one INVALID_ARGUMENT, a
    reused one NOT_FOUND; an unknown service is Refused("not_configured");
  * an agent with --token_file: Query is UNAUTHENTICATED without the token or with a
    wrong one; in backup mode, so is Pick;
  * a service the local agent has no config for is picked by a backup that has one;
  * examples/pick_get_report.py runs against the agent.
"""

import os
import subprocess
import sys
import time

import agent_test_support as t

SERVICE = "echo"
THRESHOLD = 3  # consecutive transport failures that ban


def config(ports):
    modes = ["healthy", "healthy", "refuse"]
    return {"services": [{
        "name": SERVICE,
        "version": "1",
        "endpoints": [{"address": "127.0.0.1:%d" % p, "tags": {"mode": m, "n": str(i)}}
                      for i, (p, m) in enumerate(zip(ports, modes))],
        "balancing": {"policy": "round_robin"},
        "ban": {
            "byRequest": {"window": 10, "failures": THRESHOLD, "consecutive": THRESHOLD},
            "byBusiness": {"enabled": False},
            "baseTime": "30s",
            "maxRatio": 0.5,
        },
        "timeouts": {"connect": "0.5s", "read": "1s", "write": "1s"},
        # Only requests with x-chaos: nothing else in this test carries it.
        "faults": [
            {"name": "abort", "attributes": [{"key": "x-chaos", "value": "abort"}],
             "abort": {"httpStatus": 503}},
            {"name": "slow", "attributes": [{"key": "x-chaos", "value": "slow"}],
             "delay": {"fixed": "0.030s"}},
        ],
    }]}


def expect_call_error(ufc_agent, codes, fn, what):
    try:
        fn()
    except ufc_agent.AgentCallError as e:
        t.check(e.code in codes, "%s -> %s (%s)" % (what, e.code.name, e.details))
        return
    t.fail("%s: no error, expected %s" % (what, "/".join(c.name for c in codes)))


def main(args, tmp, procs):
    import grpc
    import ufc_agent

    ports = []
    for name, mode in (("healthy0", "healthy"), ("healthy1", "healthy"), ("refuse2", "refuse")):
        ports.append(t.start_backend(procs, args.backend, name, mode)[1])
    healthy = ["127.0.0.1:%d" % p for p in ports[:2]]
    refusing = "127.0.0.1:%d" % ports[2]
    cfg = t.write_json(tmp, "config.json", config(ports))
    _, agent_port = t.start_agent(procs, args.agentd, "agent", cfg)
    agent = "127.0.0.1:%d" % agent_port

    # agent_timeout generous: this test is about the agent's answers, not the fallback.
    client = ufc_agent.AgentClient(agent, agent_timeout=2.0)
    try:
        # -- round robin, banning the refusing backend --------------------------------
        order, transports, delivered = [], [], []
        for _ in range(60):
            pick = client.pick(SERVICE)
            status, transport, latency = t.http_get(pick, ufc_agent)
            if pick.address != refusing and status != 200:
                t.fail("GET %s: %s %s" % (pick.address, status, transport))
            if pick.address == refusing:
                transports.append(transport)
            delivered.append(client.report(pick, http_status=status, transport=transport,
                                           latency=latency))
            order.append(pick.address)
        t.check(all(delivered), "every report delivered")
        t.check(transports and all(x == "connect_refused" for x in transports),
                "the refusing backend fails as connect_refused: %s" % transports)
        refused_at = [i for i, a in enumerate(order) if a == refusing]
        print("picks of the refusing backend at", refused_at)
        t.check(THRESHOLD <= len(refused_at) <= THRESHOLD + 1,
                "the refusing backend is picked %d times (ban after %d consecutive failures)"
                % (len(refused_at), THRESHOLD))
        t.check(not refused_at or refused_at[-1] < 3 * (THRESHOLD + 1) + 1,
                "and never after its ban (last at pick %d)" % refused_at[-1])
        after = order[refused_at[-1] + 1:]
        counts = [after.count(a) for a in healthy]
        print("after the ban, %d picks: %s" % (len(after), dict(zip(healthy, counts))))
        t.check(len(after) > 40 and abs(counts[0] - counts[1]) <= max(2, len(after) // 10),
                "round robin spreads the rest evenly over the healthy two: %s" % counts)
        # The agent's round robin is per thread (libufc keeps per-thread offsets, and gRPC
        # runs calls on several), so the turns before the ban are not strictly in order.
        before = order[:refused_at[-1] + 1]
        shares = [before.count(a) for a in healthy + [refusing]]
        t.check(all(THRESHOLD - 2 <= n <= THRESHOLD + 2 for n in shares),
                "before the ban, round robin spreads over all three: %s" % shares)

        # -- the ban in the endpoints view ---------------------------------------------
        deadline = time.monotonic() + 5
        while True:
            view = client.query("endpoints^" + SERVICE)
            try:
                endpoints = {e["address"]: e for e in view["endpoints"]["list"]}
            except (KeyError, TypeError):
                t.fail("endpoints view has no endpoints.list: %s" % view)
            state = endpoints.get(refusing, {}).get("ban", {}).get("state")
            if state == "banned" or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        t.check(state == "banned", "query(endpoints^echo): %s is %s: %s"
                % (refusing, state, endpoints.get(refusing, {}).get("ban")))
        t.check(all(endpoints[a]["ban"]["state"] == "ok" for a in healthy),
                "the healthy two are ok")
        t.check(view["endpoints"].get("service") == SERVICE, "the view names the service")
        agent_view = client.query("agent")
        print("query(agent):", agent_view)
        t.check(isinstance(agent_view, dict) and "error" not in agent_view,
                "query(agent) is a view")
        services = client.query("services")
        t.check("services" in services, "query(services) lists the services")
        # agent.proto leaves open how an unknown view comes back; ufc-agentd answers
        # NOT_FOUND with Client::query's {"error":...} text as the message.
        try:
            bogus = client.query("bogus")
            t.check("error" in bogus, "an unknown view is {\"error\":...}: %s" % bogus)
        except ufc_agent.AgentCallError as e:
            t.check(e.code in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT),
                    "an unknown view -> %s %s" % (e.code.name, e.details))

        # -- what a pick carries --------------------------------------------------------
        pick = client.pick(SERVICE, hash_key="user-1", attributes={"x-user": "1"},
                           caller_service="python-test", priority="critical")
        t.check(pick.address in healthy and pick.host == "127.0.0.1"
                and "127.0.0.1:%d" % pick.port == pick.address,
                "a pick: %s, host and port split" % pick.address)
        t.check(pick.tags.get("mode") == "healthy" and "n" in pick.tags,
                "the endpoint's tags: %s" % pick.tags)
        t.check(pick.connect_timeout == 0.5 and pick.read_timeout == 1.0
                and pick.write_timeout == 1.0,
                "the config's timeouts: %s %s %s" % (pick.connect_timeout, pick.read_timeout,
                                                     pick.write_timeout))
        t.check(pick.deadline_remaining_ms is None,
                "no timeout_ms: no deadline (no gRPC deadline leaks into the pick)")
        t.check(pick.agent == agent and not pick.via_backup and len(pick.ticket) == 16,
                "issued by %s, not a backup, a 16-byte ticket" % pick.agent)
        t.check(pick.max_attempts >= 1, "max_attempts %d, retry_allowed %s"
                % (pick.max_attempts, pick.retry_allowed))
        client.report(pick, http_status=200, latency=0.001)

        # -- injected faults (the service's fault rules) ----------------------------------
        pick = client.pick(SERVICE, attributes={"x-chaos": "abort"})
        t.check(pick.fault_abort_status == 503 and pick.fault_delay == 0.0
                and pick.address == "" and pick.ticket == b"",
                "an injected abort: status %d, no endpoint (%r), no ticket (%r)"
                % (pick.fault_abort_status, pick.address, pick.ticket))
        t.check(client.report(pick, http_status=503, latency=0.0) is True,
                "reporting an injected abort does nothing (and needs no agent)")
        pick = client.pick(SERVICE, attributes={"x-chaos": "slow"})
        t.check(pick.fault_abort_status == 0 and abs(pick.fault_delay - 0.030) < 1e-9
                and pick.address in healthy and len(pick.ticket) == 16,
                "an injected delay: %s s before sending to %s" % (pick.fault_delay, pick.address))
        client.report(pick, http_status=200, latency=0.001)
        info = client.query("request_info^" + SERVICE)["request_info"]
        t.check(info.get("faults") == {"aborts": 1, "delays": 1},
                "request_info counts the faults apart: %s" % info.get("faults"))
        t.check(client.query("agent")["agent"].get("fault_aborts") == 1,
                "the agent counts the abort it answered without a ticket")

        pick = client.pick(SERVICE, timeout_ms=300)
        t.check(pick.deadline_remaining_ms is not None and 200 < pick.deadline_remaining_ms <= 300,
                "timeout_ms=300: deadline_remaining_ms %s" % pick.deadline_remaining_ms)
        t.check(pick.read_timeout is not None and pick.read_timeout <= 0.3,
                "timeouts capped to the budget: read %s s" % pick.read_timeout)
        status, transport, latency = t.http_get(pick, ufc_agent)
        client.report(pick, http_status=status, transport=transport, latency=latency)

        # (not is_retry: the retry budget is granted per fuse tick and may hold no token
        # yet this early in the agent's life)
        avoided = client.pick(SERVICE, avoid=[healthy[0]])
        t.check(avoided.address == healthy[1], "avoid=[%s] -> %s" % (healthy[0], avoided.address))
        client.report(avoided, http_status=200, latency=0.001)

        # "0 is a budget already spent" (agent.proto, ufc/deadline.h).
        try:
            p = client.pick(SERVICE, timeout_ms=0)
            client.report(p, http_status=200, latency=0.001)
            t.expect(False, "timeout_ms=0 -> Refused(deadline_spent), not a pick of %s "
                     "(deadline_remaining_ms %s)" % (p.address, p.deadline_remaining_ms))
        except ufc_agent.Refused as e:
            t.expect(e.reason == "deadline_spent"
                     and e.status_code is grpc.StatusCode.DEADLINE_EXCEEDED,
                     "timeout_ms=0 -> Refused(%s, %s)" % (e.code, e.reason))

        # -- refusals and bad tickets -----------------------------------------------
        try:
            p = client.pick("no-such-service")
            t.fail("an unknown service picked %s" % p.address)
        except ufc_agent.Refused as e:
            t.check(e.reason == "not_configured" and e.status_code is grpc.StatusCode.NOT_FOUND,
                    "an unknown service -> Refused(%s, %s, %r)" % (e.code, e.reason, e.message))

        pick = client.pick(SERVICE)
        real = pick.ticket
        pick.ticket = bytes(16)
        expect_call_error(ufc_agent, (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND),
                          lambda: client.report(pick, http_status=200, latency=0.001),
                          "a forged 16-byte ticket")
        pick.ticket = bytes(reversed(real))
        expect_call_error(ufc_agent, (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND),
                          lambda: client.report(pick, http_status=200, latency=0.001),
                          "a ticket with its bytes reversed")
        pick.ticket = real[:-1] + bytes([real[-1] ^ 0x5A])
        expect_call_error(ufc_agent, (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND),
                          lambda: client.report(pick, http_status=200, latency=0.001),
                          "the real ticket with one nonce byte altered")
        pick.ticket = b"short"
        expect_call_error(ufc_agent, (grpc.StatusCode.INVALID_ARGUMENT,),
                          lambda: client.report(pick, http_status=200, latency=0.001),
                          "a 5-byte ticket")
        pick.ticket = real
        t.check(client.report(pick, http_status=200, latency=0.001) is True,
                "the real ticket is still good after the forgeries")
        expect_call_error(ufc_agent, (grpc.StatusCode.NOT_FOUND,),
                          lambda: client.report(pick, http_status=200, latency=0.001),
                          "the same ticket again")
    finally:
        client.close()

    # -- the example, as a user runs it ---------------------------------------------------
    env = dict(os.environ, PYTHONPATH=args.gen)
    example = os.path.join(t.CLIENT_DIR, "examples", "pick_get_report.py")
    run = subprocess.run([sys.executable, example, "--agent", agent, "--service", SERVICE,
                          "-n", "4"], env=env, capture_output=True, text=True, timeout=30)
    print(run.stdout + run.stderr)
    t.check(run.returncode == 0 and run.stdout.count(" 200 ") == 4,
            "examples/pick_get_report.py: 4 GETs of 200 (exit %d)" % run.returncode)

    # -- the token: Query always needs it; in backup mode, every call does ----------------
    token_file = os.path.join(tmp, "token")
    with open(token_file, "w") as f:
        f.write("s3cret-t0ken")
    for mode in ("local", "backup"):
        _, secured_port = t.start_agent(procs, args.agentd, "agent-token-" + mode, cfg,
                                        extra=["--token_file=" + token_file, "--mode=" + mode])
        secured = "127.0.0.1:%d" % secured_port
        for token, what in ((None, "no token"), ("wrong", "a wrong token")):
            with ufc_agent.AgentClient(secured, token=token, agent_timeout=2.0) as c:
                expect_call_error(ufc_agent, (grpc.StatusCode.UNAUTHENTICATED,),
                                  lambda: c.query("services"),
                                  "%s mode: query with %s" % (mode, what))
                if mode == "backup":
                    expect_call_error(ufc_agent, (grpc.StatusCode.UNAUTHENTICATED,),
                                      lambda: c.pick(SERVICE),
                                      "backup mode: pick with %s" % what)
                else:
                    pick = c.pick(SERVICE)
                    t.check(c.report(pick, http_status=200, latency=0.001) is True,
                            "local mode: pick and report with %s" % what)
        with ufc_agent.AgentClient(secured, token="s3cret-t0ken", agent_timeout=2.0) as c:
            pick = c.pick(SERVICE)
            t.check(c.report(pick, http_status=200, latency=0.001) is True
                    and "services" in c.query("services"),
                    "%s mode with the token: pick %s, report, query" % (mode, pick.address))

    # -- a service the local agent has no config for yet: asked of a backup -------------
    wider = config(ports)
    extra = dict(wider["services"][0], name="backup-only")
    wider["services"].append(extra)
    wider_cfg = t.write_json(tmp, "wider.json", wider)
    _, wide_port = t.start_agent(procs, args.agentd, "agent-wider", wider_cfg)
    wide = "127.0.0.1:%d" % wide_port
    with ufc_agent.AgentClient(agent, backups=[wide], agent_timeout=2.0) as c:
        pick = c.pick("backup-only")
        t.check(pick.via_backup and pick.agent == wide,
                "not_configured on the local agent: the backup picks %s" % pick.address)
        t.check(c.report(pick, http_status=200, latency=0.001) is True,
                "and the report goes to the backup")
        pick = c.pick(SERVICE)
        t.check(not pick.via_backup, "a configured service stays on the local agent")
        c.report(pick, http_status=200, latency=0.001)
        try:
            c.pick("nowhere")
            t.fail("a service no agent has was picked")
        except ufc_agent.Refused as e:
            t.check(e.reason == "not_configured", "a service no agent has -> Refused(%s)"
                    % e.reason)


if __name__ == "__main__":
    t.run(main, __doc__.splitlines()[0])
