#!/bin/sh
# Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
#
# generate.sh OUT_DIR: the Python messages and gRPC stubs of ufc.v1.Agent, which the
# ufc_agent package imports from sys.path (put OUT_DIR on PYTHONPATH). Writes
# OUT_DIR/ufc/v1/agent_pb2.py and agent_pb2_grpc.py, plus the package __init__.py files.
# Needs protoc and grpc_python_plugin (Debian: protobuf-compiler, protobuf-compiler-grpc);
# GRPC_PYTHON_PLUGIN overrides where the plugin is found.
set -eu

if [ $# -ne 1 ]; then
  echo "usage: $0 OUT_DIR" >&2
  exit 2
fi
out=$1
here=$(cd "$(dirname "$0")" && pwd)
protos=$here/../../protos
plugin=${GRPC_PYTHON_PLUGIN:-$(command -v grpc_python_plugin || true)}
if ! command -v protoc >/dev/null 2>&1; then
  echo "$0: protoc not found (apt-get install protobuf-compiler)" >&2
  exit 1
fi
if [ -z "$plugin" ]; then
  echo "$0: grpc_python_plugin not found (apt-get install protobuf-compiler-grpc)" >&2
  exit 1
fi

mkdir -p "$out/ufc/v1"
protoc -I "$protos" --python_out="$out" --grpc_out="$out" \
  --plugin=protoc-gen-grpc="$plugin" "$protos/ufc/v1/agent.proto"
# protoc writes modules, not packages: make ufc and ufc.v1 importable.
for d in "$out/ufc" "$out/ufc/v1"; do
  [ -e "$d/__init__.py" ] || : >"$d/__init__.py"
done
