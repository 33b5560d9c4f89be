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

# sync_cache_fuzz: each ClientConfig seed as a whole cache file (global version 7), once
# as it is (mode byte 0) and once to have its checksum redone by the harness (1, with the
# last byte dropped: a torn write).
mkdir -p tests/fuzz/corpus/sync_cache_fuzz
for pb in tests/fuzz/corpus/client_config_fuzz/*.pb; do
  name=$(basename "${pb%.pb}")
  python3 - "$pb" "tests/fuzz/corpus/sync_cache_fuzz/$name" <<'PY'
import sys
payload = open(sys.argv[1], "rb").read()
body = b"UFCCACHE1\n" + b"7 %d\n" % len(payload) + payload
h = 1469598103934665603
for c in body:
    h = ((h ^ c) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
whole = body + b"%016x\n" % h
open(sys.argv[2] + ".cache", "wb").write(b"\x00" + whole)
open(sys.argv[2] + ".torn", "wb").write(b"\x01" + whole[:-1])
PY
done

# watch_response_fuzz: each seeds/watch_response_fuzz/*.txtpb is a conversation (the
# harness's input after its mode byte: `repeated ufc.v1.WatchResponse responses = 1`),
# once after the harness's baseline (mode 1) and once on a client that never synced (0).
conv=$(mktemp -d)
trap 'rm -rf "$conv"' EXIT
cat >"$conv/conversation.proto" <<'PROTO'
syntax = "proto3";
package ufc.fuzz;
import "ufc/v1/meta.proto";
message Conversation { repeated ufc.v1.WatchResponse responses = 1; }
PROTO
mkdir -p tests/fuzz/corpus/watch_response_fuzz
for src in tests/fuzz/seeds/watch_response_fuzz/*.txtpb; do
  name=$(basename "${src%.txtpb}")
  protoc -I protos -I /usr/include -I "$conv" --encode=ufc.fuzz.Conversation conversation.proto \
    <"$src" >"$conv/$name.pb"
  { printf '\001'; cat "$conv/$name.pb"; } >"tests/fuzz/corpus/watch_response_fuzz/$name.synced"
  { printf '\000'; cat "$conv/$name.pb"; } >"tests/fuzz/corpus/watch_response_fuzz/$name.cold"
done
