# Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
"""The exceptions AgentClient raises.

A UFC decision not to send a request (`Refused`) is an answer, not a failure: the agent
was reached and said no. `AgentUnavailable` means no agent answered at all; `AgentCallError`
means an agent answered the call with an error (a malformed request, a bad ticket, a
missing token): a bug or a misconfiguration on the caller's side, never retried.
"""

import grpc

__all__ = ["UfcAgentError", "Refused", "AgentUnavailable", "AgentCallError"]

_CODES = {c.value[0]: c for c in grpc.StatusCode}


class UfcAgentError(Exception):
    """Base class of every error ufc_agent raises."""


class Refused(UfcAgentError):
    """UFC refused the pick: do not send the request.

    Attributes:
      code: the gRPC code number libufc's Client::pick returns (NOT_FOUND = 5 for an
        unknown service, UNAVAILABLE = 14 when shed, DEADLINE_EXCEEDED = 4, ...).
      reason: the refusal's name: "not_configured", "deadline_spent", "shed",
        "retry_while_fusing", "retry_budget_spent", "every_backend_tried".
      message: the agent's explanation, for logs.
    """

    def __init__(self, code, reason, message):
        super().__init__("UFC refused the pick: %s (%s)" % (reason, message))
        self.code = code
        self.reason = reason
        self.message = message

    @property
    def status_code(self):
        """`code` as a grpc.StatusCode (None if the number is not one)."""
        return _CODES.get(self.code)


class AgentUnavailable(UfcAgentError):
    """No agent answered: the local one and every backup failed or timed out.

    Attributes:
      errors: one (agent address, grpc.StatusCode, details) per agent tried, in order.
    """

    def __init__(self, what, errors):
        super().__init__("%s: no agent answered: %s" % (what, "; ".join(
            "%s: %s %s" % (a, c.name if c else "?", d) for a, c, d in errors) or "none configured"))
        self.errors = list(errors)


class AgentCallError(UfcAgentError):
    """An agent answered the call with a gRPC error other than UNAVAILABLE and
    DEADLINE_EXCEEDED: INVALID_ARGUMENT (a malformed request or ticket), NOT_FOUND (a
    ticket unknown, expired or already reported), UNAUTHENTICATED (token missing or wrong).

    Attributes:
      code: the grpc.StatusCode.
      details: the agent's message.
      agent: the address of the agent that answered.
    """

    def __init__(self, code, details, agent):
        super().__init__("agent %s: %s: %s" % (agent, code.name if code else "?", details))
        self.code = code
        self.details = details
        self.agent = agent
