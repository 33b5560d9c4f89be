# Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
"""How an attempt's Python exceptions map to the `transport` AgentClient.report takes.

The mapping is include/ufc/outcome.h's for errno, applied to the socket and http.client
exceptions and the phase of the attempt they happened in:

  connect  refused, host/network unreachable, DNS failure -> "connect_refused"
           timeout                                        -> "connect_timeout"
           anything else                                  -> "connect_refused"
  write    anything (EPIPE, ECONNRESET, timeout)           -> "write_failed"
  read     timeout                                        -> "read_timeout"
           ECONNRESET                                     -> "reset"
           EOF before or mid-response, malformed response -> "read_failed"

Anything the backend did answer (any HTTP status) is transport "ok" with the status.
"""

import errno
import http.client
import socket

__all__ = ["TRANSPORTS", "transport_of"]

# The transports report() takes, in ufc.v1.AgentTransport order.
TRANSPORTS = ("ok", "connect_refused", "connect_timeout", "reset", "write_failed",
              "read_timeout", "read_failed")


def transport_of(exc, phase):
    """transport_of(exc, phase) is the transport name for exception `exc` raised while
    connecting ("connect"), sending the request ("write") or reading the response
    ("read"). Pure; never raises for an exception it does not know (that is a
    "connect_refused", "write_failed" or "read_failed" by phase)."""
    if phase == "connect":
        if isinstance(exc, (socket.timeout, TimeoutError)):
            return "connect_timeout"
        return "connect_refused"  # refused, unreachable, DNS (socket.gaierror), ...
    if phase == "write":
        return "write_failed"
    if phase != "read":
        raise ValueError("phase must be connect, write or read, not %r" % (phase,))
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return "read_timeout"
    # RemoteDisconnected is a ConnectionResetError too, but it is an EOF: read_failed.
    if isinstance(exc, http.client.RemoteDisconnected):
        return "read_failed"
    if isinstance(exc, ConnectionResetError) or getattr(exc, "errno", None) == errno.ECONNRESET:
        return "reset"
    return "read_failed"
