#!/usr/bin/env bash
# Regenerates the binary seed corpora of the proto fuzzers from the text protos in
# tests/fuzz/seeds/<fuzzer>/*.txtpb (the readable source of each seed), with protoc.
set -euo pipefail
cd "$(dirname "$0")/../.."
declare -A type=([service_config_fuzz]=ufc.v1.ServiceConfig [client_config_fuzz]=ufc.v1.ClientConfig)
for fuzzer in "${!type[@]}"; do
  mkdir -p "tests/fuzz/corpus/$fuzzer"
  for src in tests/fuzz/seeds/"$fuzzer"/*.txtpb; do
    out="tests/fuzz/corpus/$fuzzer/$(basename "${src%.txtpb}").pb"
    protoc -I protos -I /usr/include --encode="${type[$fuzzer]}" ufc/v1/config.proto <"$src" >"$out"
  done
done
