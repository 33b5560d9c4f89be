#!/usr/bin/env python3
# Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
"""The Python client's fallback to backup agents, under load, with real kill -9s.

    python3 tests/agent/python/agent_fallback_test.py --agentd build/agentd/ufc-agentd \
        --backend build/examples/backend [--gen DIR]     (exit code 0: pass)

A local agent and two backups (all on loopback, same config, three healthy backends); a
paced load of 1,000 requests/s from 16 threads sharing one AgentClient(local, backups=[b1,
b2]), each request pick -> HTTP GET -> report, for 6 s. At 2 s the local agent is killed
(SIGKILL), at 3 s restarted on the same port, at 4.5 s backup 1 is killed. Asserts: no
request lost (every pick answered, every GET 200); the traffic moves to the backups
(round-robin over both) and is back on the local agent within 1 s of its restart
(counted from its port file reappearing); then, local killed again, every pick finds
backup 2. Prints the pick latency before and in the
500 ms after the kill, and which agent served the requests over time.
"""

import os
import threading
import time

import agent_test_support as t

SERVICE = "echo"
RATE = 1000        # requests/s, paced on a schedule (not closed-loop)
THREADS = 16
DURATION = 6.0     # s
KILL_LOCAL, RESTART_LOCAL, KILL_BACKUP1 = 2.0, 3.0, 4.5
BUCKET = 0.25      # s, the timeline's resolution


def config(ports):
    return {"services": [{
        "name": SERVICE,
        "version": "1",
        "endpoints": [{"address": "127.0.0.1:%d" % p} for p in ports],
        "balancing": {"policy": "round_robin"},
        "timeouts": {"connect": "0.5s", "read": "1s", "write": "1s"},
    }]}


def percentile(values, q):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


class Record:
    __slots__ = ("sched", "start", "picked", "end", "agent", "error", "status", "reported")

    def __init__(self, sched):
        self.sched = sched
        self.start = self.picked = self.end = None
        self.agent = self.error = self.status = self.reported = None


def worker(k, client, ufc_agent, t0, records, stop):
    conns = {}
    for i in range(k, len(records), THREADS):
        rec = records[i]
        wait = t0 + rec.sched - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        if stop.is_set():
            return
        rec.start = time.monotonic()
        try:
            pick = client.pick(SERVICE)
        except Exception as e:  # lost: the point of the test is that this never happens
            rec.error = "%s: %s" % (type(e).__name__, e)
            rec.end = rec.picked = time.monotonic()
            continue
        rec.picked = time.monotonic()
        rec.agent = pick.agent
        status, transport, latency = t.http_get(pick, ufc_agent, conns)
        rec.status = status if status is not None else transport
        try:
            rec.reported = client.report(pick, http_status=status, transport=transport,
                                         latency=latency)
        except ufc_agent.AgentCallError as e:
            rec.reported = "%s" % e.code.name
        rec.end = time.monotonic()


def main(args, tmp, procs):
    import ufc_agent

    ports = [t.start_backend(procs, args.backend, "backend%d" % i, "healthy")[1]
             for i in range(3)]
    cfg = t.write_json(tmp, "config.json", config(ports))
    local_proc, local_port = t.start_agent(procs, args.agentd, "local", cfg)
    b1_proc, b1_port = t.start_agent(procs, args.agentd, "backup1", cfg, extra=["--mode=backup"])
    _, b2_port = t.start_agent(procs, args.agentd, "backup2", cfg, extra=["--mode=backup"])
    local, b1, b2 = ("127.0.0.1:%d" % p for p in (local_port, b1_port, b2_port))
    names = {local: "local", b1: "backup1", b2: "backup2"}

    client = ufc_agent.AgentClient(local, backups=[b1, b2])
    events = {}
    try:
        for _ in range(50):  # warm up: connections to the agent and the backends
            pick = client.pick(SERVICE)
            client.report(pick, http_status=t.http_get(pick, ufc_agent)[0], latency=0.001)
        records = [Record(i / RATE) for i in range(int(RATE * DURATION))]
        stop = threading.Event()
        t0 = time.monotonic() + 0.05
        threads = [threading.Thread(target=worker, args=(k, client, ufc_agent, t0, records, stop),
                                    daemon=True) for k in range(THREADS)]
        for th in threads:
            th.start()

        def at(offset):
            time.sleep(max(0.0, t0 + offset - time.monotonic()))
            return time.monotonic() - t0

        events["kill local"] = at(KILL_LOCAL)
        local_proc.kill9()
        events["restart local"] = at(RESTART_LOCAL)
        local_proc, port = t.start_agent(procs, args.agentd, "local", cfg,
                                         port=local_port)
        # When the file appeared, from its mtime: this thread's polling may lag under load.
        mtime = os.stat(os.path.join(tmp, "local.port")).st_mtime
        events["local port file"] = min(time.monotonic(),
                                        mtime - (time.time() - time.monotonic())) - t0
        t.check(port == local_port, "the local agent restarted on its port %d" % port)
        events["kill backup1"] = at(KILL_BACKUP1)
        b1_proc.kill9()
        for th in threads:
            th.join(timeout=max(0.1, t0 + DURATION + 10 - time.monotonic()))
        stop.set()
        t.check(not any(th.is_alive() for th in threads), "the load threads finished")
        health = client.health()

        # Afterwards, the local agent killed again while backup 1 is still dead: each pick
        # must find backup 2 (local and backup 1 fail fast, then are skipped).
        local_proc.kill9()
        after_tail = []
        for _ in range(200):
            start = time.monotonic()
            try:
                pick = client.pick(SERVICE)
            except ufc_agent.UfcAgentError as e:
                after_tail.append((None, time.monotonic() - start, str(e)))
                continue
            after_tail.append((pick.agent, time.monotonic() - start, None))
            client.report(pick, http_status=t.http_get(pick, ufc_agent)[0], latency=0.001)
        tail_health = client.health()
    finally:
        client.close()

    # -- the figures -----------------------------------------------------------------
    for r in records:
        for f in ("start", "picked", "end"):
            if getattr(r, f) is not None:
                setattr(r, f, getattr(r, f) - t0)
    done = [r for r in records if r.start is not None]
    lost = [r for r in done if r.error is not None]
    bad = [r for r in done if r.error is None and r.status != 200]
    late = [r.start - r.sched for r in done]
    kill = events["kill local"]
    ready = events["local port file"]

    def lat_ms(lo, hi):
        return [(r.picked - r.start) * 1000 for r in done if lo <= r.start < hi]

    before, after = lat_ms(0.5, kill), lat_ms(kill, kill + 0.5)
    restart_window = lat_ms(ready, ready + 0.5)
    served_by_backup_after = [r.start for r in done if r.agent not in (None, local)
                              and r.start >= ready]
    back = (max(served_by_backup_after) - ready) if served_by_backup_after else 0.0
    first_local = min((r.picked for r in done if r.agent == local and r.start >= kill),
                      default=None)
    # Back: from the port file to the first pick the restarted agent answers; then it must
    # keep the traffic (a stray pick slower than agent_timeout on this busy 2-vCPU box
    # sends ~100 ms of picks to the backups, hence a share, not "all").
    back_at = first_local if first_local is not None else float("inf")
    settled = [r for r in done if back_at + 0.25 <= r.start < events["kill backup1"]]
    settled_local = sum(1 for r in settled if r.agent == local)
    stray = [r for r in done if r.agent not in (None, local)
             and not (kill <= r.start < back_at)]
    unreported = sum(1 for r in done if r.reported is False)

    print("\nload: %d requests scheduled at %d/s from %d threads, %d run in %.2f s; "
          "start lateness p50 %.2f ms, p99 %.2f ms, max %.1f ms"
          % (len(records), RATE, THREADS, len(done), max(r.end for r in done),
             percentile(late, .5) * 1000, percentile(late, .99) * 1000, max(late) * 1000))
    if percentile(late, .99) > 0.1:
        print("WARNING: the load ran late (p99 %.0f ms behind schedule): this host is "
              "overloaded, and the figures below are its, not the client's"
              % (percentile(late, .99) * 1000))
    print("events (s from start): " + ", ".join("%s %.3f" % kv for kv in events.items()))
    print("\n%-34s %7s %8s %8s %8s" % ("pick latency (ms)", "picks", "p50", "p99", "max"))
    for label, xs in (("before the kill [0.5 s, kill)", before),
                      ("500 ms after the kill", after),
                      ("500 ms after the restart", restart_window)):
        print("%-34s %7d %8.2f %8.2f %8.2f" % (label, len(xs), percentile(xs, .5),
                                              percentile(xs, .99), max(xs) if xs else 0))
    print("\n%-12s %7s %8s %8s %6s %11s %13s" % ("window (s)", "local", "backup1", "backup2",
                                                "lost", "pick p99 ms", "late p99 ms"))
    n_buckets = int(DURATION / BUCKET)
    for b in range(n_buckets):
        lo, hi = b * BUCKET, (b + 1) * BUCKET
        rs = [r for r in done if lo <= r.start < hi]
        counts = {n: sum(1 for r in rs if names.get(r.agent) == n)
                  for n in ("local", "backup1", "backup2")}
        marks = [k for k, v in events.items() if lo <= v < hi]
        print("%5.2f-%5.2f  %7d %8d %8d %6d %11.2f %13.2f  %s" % (
            lo, hi, counts["local"], counts["backup1"], counts["backup2"],
            sum(1 for r in rs if r.error),
            percentile([(r.picked - r.start) * 1000 for r in rs], .99),
            percentile([(r.start - r.sched) * 1000 for r in rs], .99),
            "<- " + ", ".join(marks) if marks else ""))
    print("\nlocal answering again: first pick served at %s s, %.3f s after its port file "
          "(%.3f s); the last pick served by a backup after the restart started %.3f s after "
          "the port file" % ("%.3f" % first_local if first_local is not None else "never",
                             max(0.0, back_at - ready), ready, back))
    print("picks served by a backup outside the outage (local slower than agent_timeout): %d"
          % len(stray))
    print("reports lost with the killed agents' tickets: %d; client health at the end: %s\n"
          % (unreported, health))

    # -- the assertions -----------------------------------------------------------------
    t.check(len(done) == len(records), "every scheduled request ran (%d)" % len(done))
    t.check(not lost, "0 requests lost (every pick answered)%s"
            % ("" if not lost else ": %d, first %s" % (len(lost), lost[0].error)))
    t.check(not bad, "every GET answered 200%s"
            % ("" if not bad else ": %d not, e.g. %s" % (len(bad), bad[0].status)))
    outage = [r for r in done if kill + 0.1 <= r.start < events["restart local"]]
    t.check(outage and all(r.agent in (b1, b2) for r in outage),
            "during the outage every pick is served by a backup (%d)" % len(outage))
    n1 = sum(1 for r in outage if r.agent == b1)
    n2 = len(outage) - n1
    t.check(n1 > 0.3 * len(outage) and n2 > 0.3 * len(outage),
            "round robin over the two backups: %d / %d" % (n1, n2))
    t.check(back_at - ready < 1.0, "traffic back on the local agent within 1 s of its restart "
            "(%.3f s after its port file)" % max(0.0, back_at - ready))
    t.check(settled and settled_local >= 0.98 * len(settled),
            "and it keeps it: %d of %d picks from then to backup 1's kill" % (settled_local,
                                                                           len(settled)))
    tail = [r for r in done if r.start >= events["kill backup1"]]
    tail_local = sum(1 for r in tail if r.agent == local)
    t.check(tail and tail_local >= 0.98 * len(tail) and not any(r.agent == b1 for r in tail),
            "after backup 1's kill, the local agent serves %d of %d" % (tail_local, len(tail)))
    t.check(unreported <= 0.05 * len(done), "few reports lost to the kills (%d)" % unreported)
    tail_ms = [x[1] * 1000 for x in after_tail]
    print("local and backup 1 both down: 200 sequential picks, p50 %.2f ms, p99 %.2f ms, max "
          "%.2f ms; health %s" % (percentile(tail_ms, .5), percentile(tail_ms, .99),
                                  max(tail_ms), tail_health))
    errors = [x[2] for x in after_tail if x[2]]
    t.check(not errors and all(x[0] == b2 for x in after_tail),
            "with local and backup 1 down, every pick is served by backup 2%s"
            % ("" if not errors else ": %d failed, e.g. %s" % (len(errors), errors[0])))
    t.check(b1 in tail_health["backups_skipped"] and tail_health["local_down"],
            "backup 1 is skipped and the local agent marked down")


if __name__ == "__main__":
    t.run(main, __doc__.splitlines()[0])
