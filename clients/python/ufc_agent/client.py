# Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
"""AgentClient: UFC's pick / report for Python, through ufc-agentd, with fallback to
backup agents.

A caller asks `pick()` for a backend of a service, talks to it with any protocol, then
tells `report()` how it went. The decisions are libufc's, made by the local agent
(ufc-agentd on the caller's host) or, while it cannot be reached, by a backup agent; the
pick remembers which agent issued it, and its report goes back to that agent.

    client = AgentClient("127.0.0.1:8877", backups=["10.0.0.5:8877", "10.0.0.6:8877"])
    pick = client.pick("echo", timeout_ms=800)      # Refused: UFC says don't send it
    ... call pick.host:pick.port within pick.read_timeout, send pick.deadline_remaining_ms ...
    client.report(pick, http_status=200, latency=0.012)
"""

import datetime
import threading
import time

import grpc
from google.protobuf import json_format

from ._stubs import agent_pb2, agent_pb2_grpc
from .errors import AgentCallError, AgentUnavailable, Refused
from .outcome import TRANSPORTS

__all__ = ["AgentClient", "Pick"]

# The metadata key carrying a unary pick's budget in whole milliseconds (ufc/deadline.h).
TIMEOUT_METADATA = "x-ufc-timeout-ms"

# gRPC codes that mean "this agent cannot be reached or is hung": go to another agent.
_FAILOVER_CODES = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)

_PRIORITIES = {"normal": 0, "critical": 1, "low": 2, "offline": 3}
_TRANSPORT_VALUES = {name: i for i, name in enumerate(TRANSPORTS)}

# Reconnect quickly after an agent restarts: gRPC's default backoff (1 s growing to 120 s)
# would keep traffic on the backups long after the local agent is back.
_CHANNEL_OPTIONS = (
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 500),
)


class Pick:
    """One pick: where to send the attempt, within which limits, and the ticket to report.

    A plain value; read it from any thread. Attributes:
      address: the backend, "host:port" as configured.
      host, port: the same, split (host without brackets).
      tags: the endpoint's tags, a dict.
      connect_timeout, read_timeout, write_timeout: the attempt's timeouts in seconds
        (floats), or None for no limit from UFC.
      retry_allowed, max_attempts: whether a failed attempt may be retried, and how many
        attempts in all the request may make.
      deadline_remaining_ms: what is left of the request's deadline, to send to the
        backend as `x-ufc-timeout-ms`; None when the request has no deadline.
      agent: the address of the agent that issued the pick (report goes there).
      via_backup: True when that agent is a backup, not the local one.
      ticket: the opaque ticket (bytes) the agent expects back in the report.
      fault_abort_status: an injected fault (the service's fault rules, for chaos
        drills): when not 0, do not contact any backend and answer the request with this
        HTTP status; address is then "" and the ticket empty, and report() of the pick
        does nothing.
      fault_delay: an injected delay in seconds (a float; 0.0 for none): wait this long
        before sending, then report as usual with the latency measured from the send.
    """

    __slots__ = ("address", "host", "port", "tags", "connect_timeout", "read_timeout",
                 "write_timeout", "retry_allowed", "max_attempts", "deadline_remaining_ms",
                 "agent", "via_backup", "ticket", "fault_abort_status", "fault_delay",
                 "_agent")

    def __init__(self, response, agent):
        ep = response.endpoint
        self.address = ep.address
        self.host = ep.host
        self.port = ep.port
        self.tags = dict(ep.tags)
        self.connect_timeout = _seconds(response, "connect_timeout_ms")
        self.read_timeout = _seconds(response, "read_timeout_ms")
        self.write_timeout = _seconds(response, "write_timeout_ms")
        self.retry_allowed = response.retry_allowed
        self.max_attempts = response.max_attempts
        self.deadline_remaining_ms = (response.deadline_remaining_ms
                                      if response.HasField("deadline_remaining_ms") else None)
        self.agent = agent.address
        self.via_backup = agent.is_backup
        self.ticket = response.ticket
        self.fault_abort_status = response.fault.abort_status
        self.fault_delay = response.fault.delay_ms / 1000.0
        self._agent = agent

    def __repr__(self):
        if self.fault_abort_status:
            return "Pick(injected abort %d via %s%s)" % (
                self.fault_abort_status, self.agent, " (backup)" if self.via_backup else "")
        return "Pick(%s via %s%s)" % (self.address, self.agent,
                                      " (backup)" if self.via_backup else "")


def _seconds(response, field):
    return getattr(response, field) / 1000.0 if response.HasField(field) else None


class _Agent:
    """One agent's channel and stubs, and its failure bookkeeping (guarded by the
    client's lock)."""

    def __init__(self, address, is_backup, options):
        self.address = address
        self.is_backup = is_backup
        self.channel = grpc.insecure_channel(address, options=options)
        stub = agent_pb2_grpc.AgentStub(self.channel)
        self.pick = stub.Pick
        self.report = stub.Report
        self.query = stub.Query
        self.session = stub.Session
        self.skip_until = 0.0  # backups: monotonic time before which it is tried last
        # The idle Session that keeps gRPC's per-channel completion thread alive (see
        # AgentClient._keep_channel_spinning), the Event its request iterator waits on, and
        # when it may be opened again.
        self.keeper = None
        self.keeper_release = None
        self.keeper_next = 0.0
        self.keeper_disabled = False

    def release_keeper(self):
        if self.keeper_release is not None:
            self.keeper_release.set()
        if self.keeper is not None:
            self.keeper.cancel()
        self.keeper = self.keeper_release = None


def _idle_requests(release):
    # A Session's request stream that sends nothing until `release` is set.
    release.wait()
    return
    yield  # pragma: no cover - makes this a generator


class AgentClient:
    """A client of ufc-agentd: `pick`, `report`, `query`, with fallback to backup agents.

    Fallback. Every pick goes to the local agent first. When it fails with UNAVAILABLE
    (nothing listening, connection lost) or does not answer within `agent_timeout` (hung),
    the same pick goes at once to the backups, round-robin: a backup that fails is tried
    last for `backup_skip` seconds and the next one is tried, so one pick tries every
    agent before raising AgentUnavailable (after one last, longer wait on an agent that
    only timed out: on a starved host every agent is slow at once). While the local agent
    is down, picks go straight to the backups, and the local agent is probed in the
    background (a Query, at most every `local_retry_interval` seconds, and whenever its
    channel reconnects): traffic returns to it as soon as it answers, within about a
    second of a restart (gRPC reconnect backoff here is 100-500 ms). A pick issued by a
    backup is reported to that backup; its ticket means nothing elsewhere. A pick the
    local agent refuses as "not_configured" (it has no config for the service yet) is
    asked of the backups too, the first that answers deciding, as the product brief has
    it; any other refusal is final. Queries never fall back: each is one agent's state.

    Deadlines. A pick's own budget (`timeout_ms`) travels as `x-ufc-timeout-ms` metadata,
    less the time already spent on agents that failed (the agent takes the request's budget
    from that metadata only, never from the call's gRPC deadline). `agent_timeout` is
    enforced on the client side (the call's future is waited for that long, then
    cancelled).

    Cost: a pick and a report are one loopback gRPC round trip each; on a 2-vCPU VM, one
    thread, ~0.3 ms for a pick and ~0.65 ms for pick + report (most of it grpc-python);
    our own bookkeeping is ~15 us. A failover adds one
    failed attempt per agent that is down (immediate when the agent's port is closed,
    up to `agent_timeout` when it hangs or is still being torn down). Each agent that has
    answered a pick holds one idle Session open (see _keep_channel_spinning: it keeps
    gRPC's completion thread alive, which makes picks several times cheaper at low
    rates), plus one parked thread for it.

    Thread-safety: one AgentClient is meant to be shared by all the threads of a process;
    every method is thread-safe. The bookkeeping takes one short lock per call; the gRPC
    calls run outside it.
    """

    def __init__(self, local="127.0.0.1:8877", backups=(), token=None, agent_timeout=0.05,
                 query_timeout=1.0, backup_skip=1.0, local_retry_interval=0.1,
                 connect_backups=True, backup_unconfigured=True, last_chance_timeout=0.5,
                 channel_options=()):
        """Creates the channels; connects lazily (the local channel at once, in the
        background). Never blocks and never fails on an agent that is down.

        Args:
          local: the local agent's "host:port"; None or "" for backups only.
          backups: the backup agents' addresses, tried round-robin.
          token: sent as `authorization: Bearer <token>` on every call when set.
          agent_timeout: seconds an agent has to answer a pick or report before it counts
            as hung and the call goes to the next agent.
          query_timeout: seconds a query may take (a view can be large).
          backup_skip: seconds a failed backup is tried only after the others.
          local_retry_interval: seconds between background probes of a local agent that
            is down.
          connect_backups: connect to the backups at once, in the background, and hold
            one idle Session open on each (see the README's cost note), so that the first
            failover pays for neither a TCP and HTTP/2 handshake nor a thread start.
          backup_unconfigured: when the local agent refuses a pick as "not_configured"
            (it has no config for the service yet) or "no_endpoints" (its DNS names have
            not resolved yet), ask a backup before giving up.
          last_chance_timeout: when every agent was tried and some only timed out
            (none answered), seconds to wait on one of those once more before raising
            AgentUnavailable: on an overloaded host a slow answer beats none. 0: never.
          channel_options: extra gRPC channel options, (key, value) pairs, after ours.
        """
        if not local and not backups:
            raise ValueError("AgentClient: no agent: give a local address or backups")
        if agent_timeout <= 0:
            raise ValueError("AgentClient: agent_timeout must be > 0")
        options = list(_CHANNEL_OPTIONS) + list(channel_options)
        self._metadata = (("authorization", "Bearer " + token),) if token else ()
        self._agent_timeout = float(agent_timeout)
        self._query_timeout = float(query_timeout)
        self._backup_skip = float(backup_skip)
        self._retry_interval = float(local_retry_interval)
        self._backup_unconfigured = bool(backup_unconfigured)
        self._last_chance = float(last_chance_timeout)
        self._lock = threading.Lock()
        # Guarded by _lock:
        self._local_down = False
        self._next_probe = 0.0
        self._probing = False
        self._rr = 0
        self._closed = False
        self._backups = [_Agent(a, True, options) for a in backups]
        self._local = _Agent(local, False, options) if local else None
        if self._local is not None:
            self._local.channel.subscribe(self._on_local_connectivity, try_to_connect=True)
        # Futures that only make the channels connect; cancelled by close().
        self._warmups = ([grpc.channel_ready_future(b.channel) for b in self._backups]
                         if connect_backups else [])
        # And each backup's channel keeps its completion thread (see _keep_channel_spinning),
        # so that the first picks of a failover do not each wait for one to start while the
        # local agent's calls are timing out: under load such a pick missed agent_timeout,
        # and its backup was then skipped for backup_skip, the whole outage.
        if connect_backups:
            for b in self._backups:
                self._keep_channel_spinning(b)

    # -- the request path ---------------------------------------------------------------

    def pick(self, service, *, hash_key=None, hash=None, attributes=None, caller_service=None,
             priority=None, is_retry=False, avoid=(), timeout_ms=None):
        """pick() asks UFC for a backend of `service` and returns a Pick.

        Args:
          service: the service name, as configured.
          hash_key: a string key for the consistent_hash policy (e.g. a user id).
          hash: a pre-computed 64-bit key; wins over hash_key.
          attributes: what routing rules match on: a dict or (key, value) pairs.
          caller_service: the caller's own service name (routing by caller).
          priority: "normal" (default), "critical", "low" or "offline" (or 0..3): who is
            shed first when the service is fusing.
          is_retry: whether this is a retry of a failed attempt (retries have a budget).
          avoid: backends already tried, "host:port" each.
          timeout_ms: the request's remaining budget in ms; None for no deadline. A
            budget UFC finds spent is refused ("deadline_spent"); the pick's timeouts are
            capped to it.

        Raises:
          Refused: UFC decided the request should not be sent (unknown service, shed,
            deadline spent, every backend tried, ...): an answer, not a failure. For
            "not_configured" from the local agent, the backups are asked first; the
            refusal is raised when they refuse too or cannot be reached.
          AgentUnavailable: no agent answered (each was tried once, and one that only
            timed out once more, for up to last_chance_timeout).
          AgentCallError: an agent rejected the call (INVALID_ARGUMENT, UNAUTHENTICATED).

        Cost: one gRPC round trip to the first agent that answers.
        """
        request = agent_pb2.AgentPickRequest(service=service)
        if hash_key is not None:
            request.hash_key = hash_key
        if hash is not None:
            request.hash = hash
        if attributes:
            items = attributes.items() if hasattr(attributes, "items") else attributes
            for key, value in items:
                request.attributes.add(key=key, value=value)
        if caller_service is not None:
            request.caller_service = caller_service
        if priority is not None:
            request.priority = _PRIORITIES[priority] if isinstance(priority, str) else priority
        request.is_retry = bool(is_retry)
        request.avoid.extend([avoid] if isinstance(avoid, str) else avoid)

        start = time.monotonic()
        errors = []
        slow = None  # the first agent that only timed out, for the last chance
        unconfigured = None  # the local agent's "not_configured", while backups are asked
        for agent in self._route():
            response = self._pick_once(agent, request, timeout_ms, start, self._agent_timeout,
                                       errors)
            if response is None:
                if slow is None and errors[-1][1] is grpc.StatusCode.DEADLINE_EXCEEDED:
                    slow = agent
                continue
            if response.HasField("refusal"):
                r = response.refusal
                refused = Refused(r.code, r.reason, r.message)
                if (r.reason in ("not_configured", "no_endpoints") and agent is self._local
                        and self._backups and self._backup_unconfigured):
                    # Its config (or its DNS answers) may not have arrived yet: ask a backup.
                    unconfigured = refused
                    continue
                raise refused
            return Pick(response, agent)
        if unconfigured is not None:
            raise unconfigured
        if slow is not None and self._last_chance > 0:
            # Every agent failed, and this one only by being slow: on a starved host (CPU,
            # a stop-the-world pause) all of them are slow at once. Wait longer, once.
            response = self._pick_once(slow, request, timeout_ms, start, self._last_chance,
                                       errors)
            if response is not None:
                if response.HasField("refusal"):
                    r = response.refusal
                    raise Refused(r.code, r.reason, r.message)
                return Pick(response, slow)
        raise AgentUnavailable("pick %r" % (service,), errors)

    def _pick_once(self, agent, request, timeout_ms, start, wait, errors):
        """One Pick call to `agent`: its response, or None after recording in `errors`
        why it failed over (UNAVAILABLE, or no answer within `wait` seconds). Raises
        AgentCallError for any other error."""
        metadata = self._metadata
        if timeout_ms is not None:
            # The budget counts from the call's arrival at the agent: take off what the
            # agents that failed before this one took.
            left = int(timeout_ms - (time.monotonic() - start) * 1000.0)
            metadata = metadata + ((TIMEOUT_METADATA, str(max(0, left))),)
        future = agent.pick.future(request, metadata=metadata)
        try:
            response = future.result(timeout=wait)
        except grpc.FutureTimeoutError:
            future.cancel()
            self._failed(agent)
            errors.append((agent.address, grpc.StatusCode.DEADLINE_EXCEEDED,
                           "no answer within %g s" % wait))
            return None
        except grpc.RpcError as e:
            code = e.code()
            if code in _FAILOVER_CODES:
                self._failed(agent)
                errors.append((agent.address, code, e.details()))
                return None
            raise AgentCallError(code, e.details(), agent.address) from None
        self._answered(agent)
        keeper = agent.keeper
        if keeper is None or keeper.done():
            self._keep_channel_spinning(agent)
        return response

    def report(self, pick, *, http_status=None, grpc_code=None, transport="ok", latency):
        """report() tells the agent that issued `pick` how the attempt went.

        Args:
          pick: what pick() returned. Each pick is reported once.
          http_status: the HTTP status the backend answered, if any.
          grpc_code: or the gRPC code it ended with (an int or grpc.StatusCode).
          transport: "ok" when a response was read, else how the attempt failed:
            "connect_refused", "connect_timeout", "reset", "write_failed", "read_timeout",
            "read_failed" (ufc_agent.transport_of maps Python exceptions to them; the
            table is include/ufc/outcome.h's). A failed transport has no status.
          latency: the attempt's duration as measured by the caller, in seconds (a float
            or a datetime.timedelta); it feeds least-loaded balancing and latency
            outlier detection, so pass the real figure.

        Returns:
          True once the agent has the report (at once, without a call, for an injected
          abort: the agent holds nothing for it); False when that agent cannot be reached
          (its tickets are gone with it; nothing to do).

        Raises:
          AgentCallError: the agent rejected the report: NOT_FOUND for a ticket that is
            unknown, expired or already reported, INVALID_ARGUMENT for a malformed one.
          ValueError: an unknown transport, or a status with a failed transport.

        Cost: one gRPC round trip to the pick's agent, at most `agent_timeout`.
        """
        if pick.fault_abort_status:
            return True
        if isinstance(latency, datetime.timedelta):
            latency = latency.total_seconds()
        outcome = agent_pb2.AgentOutcome(latency_us=max(0, int(latency * 1e6)))
        if isinstance(transport, str):
            if transport not in _TRANSPORT_VALUES:
                raise ValueError("report: unknown transport %r; expected one of %s"
                                 % (transport, ", ".join(TRANSPORTS)))
            outcome.transport = _TRANSPORT_VALUES[transport]
        else:
            outcome.transport = int(transport)
        if http_status is not None and grpc_code is not None:
            raise ValueError("report: http_status and grpc_code are exclusive")
        if outcome.transport != 0 and (http_status is not None or grpc_code is not None):
            raise ValueError("report: a failed transport has no status")
        if http_status is not None:
            outcome.status_kind = agent_pb2.AGENT_STATUS_HTTP
            outcome.status_code = int(http_status)
        elif grpc_code is not None:
            outcome.status_kind = agent_pb2.AGENT_STATUS_GRPC
            outcome.status_code = (grpc_code.value[0] if isinstance(grpc_code, grpc.StatusCode)
                                   else int(grpc_code))
        request = agent_pb2.AgentReportRequest(ticket=pick.ticket, outcome=outcome)
        agent = pick._agent
        try:
            agent.report(request, timeout=self._agent_timeout, metadata=self._metadata)
        except grpc.RpcError as e:
            code = e.code()
            if code in _FAILOVER_CODES:
                self._failed(agent)
                return False
            raise AgentCallError(code, e.details(), agent.address) from None
        self._answered(agent)
        return True

    def query(self, what, *, agent=None):
        """query() returns an agent's live state as a plain dict (the view's Struct as
        JSON-like values; numbers are floats).

        `what` is one of Client::query's views, "services", "endpoints^<service>",
        "request_info^<service>", "routes^<service>", "sync", or "agent" (the agent's
        own: tickets, sessions, mode). The view is one agent's: the local one by
        default, or `agent`, the address of any agent this client was given (e.g. a
        pick's `agent`). No fallback: another agent's state would be a different one.

        Raises AgentUnavailable when that agent does not answer within query_timeout,
        AgentCallError when it rejects the call: NOT_FOUND for an unknown view or service
        (ufc-agentd puts Client::query's {"error": "..."} in the details), UNAUTHENTICATED
        without the token.
        Cost: O(endpoints of the service) on the agent, plus the transfer.
        """
        target = self._agent_named(agent)
        try:
            response = target.query(agent_pb2.AgentQueryRequest(what=what),
                                    timeout=self._query_timeout, metadata=self._metadata)
        except grpc.RpcError as e:
            code = e.code()
            if code in _FAILOVER_CODES:
                raise AgentUnavailable("query %r" % (what,),
                                       [(target.address, code, e.details())]) from None
            raise AgentCallError(code, e.details(), target.address) from None
        return json_format.MessageToDict(response.view)

    def health(self):
        """health() is what the fallback thinks of each agent, for logs and tests:
        {"local": address or None, "local_down": bool, "backups_skipped": [addresses]}.
        """
        now = time.monotonic()
        with self._lock:
            return {
                "local": self._local.address if self._local else None,
                "local_down": self._local_down,
                "backups_skipped": [b.address for b in self._backups if b.skip_until > now],
            }

    def close(self):
        """close() stops the background probing and closes every channel. Calls after it
        fail (AgentUnavailable or ValueError from gRPC). Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        for w in self._warmups:
            w.cancel()
        for a in ([self._local] if self._local else []) + self._backups:
            with self._lock:
                a.release_keeper()
        if self._local is not None:
            self._local.channel.unsubscribe(self._on_local_connectivity)
            self._local.channel.close()
        for b in self._backups:
            b.channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- fallback bookkeeping ------------------------------------------------------------

    def _route(self):
        """The agents to try for one call, in order (a generator: the backups' order is
        chosen only if the first agent fails): the local agent when it is up; then the
        backups round-robin, the ones not failing first; then a local agent that is down,
        as the last resort."""
        local = self._local
        probe = False
        with self._lock:
            local_up = local is not None and not self._local_down
            if local is not None and self._local_down and not self._probing and not self._closed:
                now = time.monotonic()
                if now >= self._next_probe:
                    self._probing = probe = True
        if probe:
            self._probe_local()
        if local_up:
            yield local
        if self._backups:
            now = time.monotonic()
            with self._lock:
                n = len(self._backups)
                first = self._rr
                self._rr = (first + 1) % n
                order = [self._backups[(first + i) % n] for i in range(n)]
                ready = [b for b in order if b.skip_until <= now]
                skipped = [b for b in order if b.skip_until > now]
            for b in ready + skipped:
                yield b
        if local is not None and not local_up:
            yield local

    def _keep_channel_spinning(self, agent):
        # Why: a pick is a future (to bound it by agent_timeout without putting a gRPC
        # deadline on the call, see the class comment), and grpc-python runs futures on a
        # per-channel completion thread that it starts when the channel has no call in
        # flight and stops when the last one ends: at a low rate, one thread start per pick
        # (~1.4 ms instead of ~0.2 ms, measured). One idle Session held open per agent that
        # answers keeps that thread alive. It sends nothing; the agent counts it in
        # "sessions_open". Reopened at most once a second after its agent came back; not
        # at all if the agent refuses it (no Session support, token rules).
        now = time.monotonic()
        with self._lock:
            if self._closed or agent.keeper_disabled or now < agent.keeper_next:
                return
            old = agent.keeper
            if old is not None and not old.done():
                return
            if old is not None and old.code() not in _FAILOVER_CODES + (grpc.StatusCode.CANCELLED,):
                agent.keeper_disabled = True
                agent.release_keeper()
                return
            agent.release_keeper()  # frees the old one's request thread
            agent.keeper_next = now + 1.0
            agent.keeper_release = threading.Event()
            try:
                agent.keeper = agent.session(_idle_requests(agent.keeper_release),
                                             metadata=self._metadata)
            except Exception:  # a closed channel: nothing to keep alive
                agent.release_keeper()

    def _failed(self, agent):
        with self._lock:
            if agent is self._local:
                if not self._local_down:
                    self._local_down = True
                    self._next_probe = time.monotonic() + self._retry_interval
            else:
                agent.skip_until = time.monotonic() + self._backup_skip

    def _answered(self, agent):
        with self._lock:
            if agent is self._local:
                self._local_down = False
            else:
                agent.skip_until = 0.0

    def _probe_local(self):
        # A cheap call in the background, so that no caller's pick waits on a local agent
        # that may still be down. Any answer (even an error status) means it is back.
        try:
            future = self._local.query.future(agent_pb2.AgentQueryRequest(what="agent"),
                                              timeout=max(self._agent_timeout, 0.1),
                                              metadata=self._metadata)
        except Exception:  # a closed channel
            with self._lock:
                self._probing = False
            return
        future.add_done_callback(self._probe_done)

    def _probe_done(self, future):
        code = future.code()
        with self._lock:
            self._probing = False
            if code not in _FAILOVER_CODES and code is not grpc.StatusCode.CANCELLED:
                self._local_down = False
            else:
                self._next_probe = time.monotonic() + self._retry_interval

    def _on_local_connectivity(self, state):
        # A fresh connection to the local agent (it restarted): try it again at once rather
        # than at the next probe. A hung agent keeps its connection READY, so this never
        # clears a hang (the probe does, once it answers).
        if state is grpc.ChannelConnectivity.READY:
            with self._lock:
                self._local_down = False

    def _agent_named(self, address):
        if address is None:
            return self._local if self._local is not None else self._backups[0]
        for a in ([self._local] if self._local else []) + self._backups:
            if a.address == address:
                return a
        raise ValueError("query: %r is not one of this client's agents" % (address,))
