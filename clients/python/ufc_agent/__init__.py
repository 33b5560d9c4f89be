# Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
"""ufc_agent: UFC's pick / report / query for Python callers, through ufc-agentd.

    from ufc_agent import AgentClient, Refused, transport_of

The generated ufc.v1 stubs must be on sys.path (clients/python/generate.sh OUT_DIR, then
PYTHONPATH=OUT_DIR); importing this package raises ImportError saying so when they are not.
See client.py for AgentClient, its fallback to backup agents, and its costs.
"""

from .client import AgentClient, Pick, TIMEOUT_METADATA
from .errors import AgentCallError, AgentUnavailable, Refused, UfcAgentError
from .outcome import TRANSPORTS, transport_of

__all__ = [
    "AgentClient", "Pick", "TIMEOUT_METADATA", "Refused", "AgentUnavailable",
    "AgentCallError", "UfcAgentError", "TRANSPORTS", "transport_of",
]
