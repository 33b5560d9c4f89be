# Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
"""The generated ufc.v1.Agent messages and stubs, found on sys.path.

They are not part of the package: `clients/python/generate.sh OUT_DIR` writes them, and the
caller puts OUT_DIR on PYTHONPATH. Importing this module fails with an ImportError saying
which of the three is missing: gRPC, protobuf, or the generated modules.
"""

try:
    import grpc  # noqa: F401
    from google.protobuf import json_format  # noqa: F401
except ImportError as e:  # pragma: no cover - depends on the installation
    raise ImportError(
        "ufc_agent needs gRPC and protobuf for Python (Debian: apt-get install "
        "python3-grpcio python3-protobuf, then use /usr/bin/python3): %s" % e) from e

try:
    from ufc.v1 import agent_pb2, agent_pb2_grpc
except ImportError as e:
    raise ImportError(
        "ufc_agent: the generated stubs ufc.v1.agent_pb2 / agent_pb2_grpc are not on "
        "sys.path; run `clients/python/generate.sh OUT_DIR` and put OUT_DIR on PYTHONPATH "
        "(%s)" % e) from e

__all__ = ["agent_pb2", "agent_pb2_grpc"]
