#!/usr/bin/env bash
# The demo: installs what is missing, builds the examples, starts six local backends
# (healthy, slow, 5xx, refusing) on free ports and runs the bypass client against them
# under every balancing policy, printing how the requests spread and what got banned.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${UFC_JOBS:-2}

scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$jobs" --target backend bypass_client ufc-metad ufcctl ufc-agentd >/dev/null

# Backends on ports the OS picks (never a fixed port another process may hold); each writes
# its port once it is ready, and the demo config is rewritten to use them.
run=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$run"; }
trap cleanup EXIT
start() {  # start <placeholder port in examples/demo.json> <backend flags...>
  local slot=$1; shift
  build/examples/backend --port=0 --port_file="$run/$slot.port" "$@" 2>>"$run/backends.log" &
  pids+=($!)
  slots+=("$slot")
}
slots=()
start 18081 --mode=healthy
start 18082 --mode=slow --delay_ms=20
start 18083 --mode=5xx
start 18084 --mode=refuse
start 18085 --mode=healthy
start 18086 --mode=healthy
cp examples/demo.json "$run/demo.json"
for i in "${!slots[@]}"; do
  slot=${slots[$i]}
  for _ in $(seq 100); do
    [ -s "$run/$slot.port" ] && break
    kill -0 "${pids[$i]}" 2>/dev/null || break
    sleep 0.05
  done
  if [ ! -s "$run/$slot.port" ]; then
    echo "demo: a backend did not start:" >&2
    cat "$run/backends.log" >&2
    exit 1
  fi
  sed -i "s/127\.0\.0\.1:$slot\b/127.0.0.1:$(cat "$run/$slot.port")/g" "$run/demo.json"
done
config="$run/demo.json"

echo
echo "UFC demo: service \"echo\" = 4 backends on 127.0.0.1 (weights 2/1/1/1), 4 callers, 1 s per policy."
echo "The refusing backend is banned within a few attempts (by request); the 5xx one once a"
echo "2 s business-signal interval has passed (its 503 share vs its peers'). Every request"
echo "carries a 150 ms deadline; 'budget ms' is what the backends received (x-ufc-timeout-ms)."

build/examples/bypass_client --config="$config" --service=echo --seconds=1 --threads=4 2>/dev/null

echo
echo "Deadlines: the same service with a 15 ms budget per request. The slow backend (20 ms of"
echo "work) sees a budget shorter than its work when the request arrives and answers 504 at once"
echo "instead of working for a caller that will be gone."
build/examples/bypass_client --config="$config" --service=echo --seconds=1 --threads=4 \
  --policies=round_robin --deadline_ms=15 2>/dev/null

echo
echo "Routing: service \"shop\" has a canary rule, 90% to version v1 (two backends), 10% to v2."
build/examples/bypass_client --config="$config" --service=shop --seconds=1 --threads=4 \
  --policies=round_robin 2>/dev/null

echo
echo "IDC affinity: this client is in IDC bj; service \"store\" has one backend in bj (it refuses"
echo "connections) and two in sh. Traffic stays local until bj has no usable backend (the refusing"
echo "one is banned), then widens to every IDC."
build/examples/bypass_client --config="$config" --service=store --seconds=1 --threads=4 \
  --policies=round_robin 2>/dev/null

echo
echo "Control plane: ufc-metad (local store) serves service \"sync-echo\", two healthy backends at"
echo "weights 1/1. The client takes it from metad; after about a second 'ufcctl put' changes the"
echo "weights to 9/1, and the client's traffic follows within the next 250 ms line."
build/metad/ufc-metad --data_dir="$run/metad" --listen=127.0.0.1:0 --port_file="$run/metad.port" \
  --metrics_listen=127.0.0.1:0 --metrics_port_file="$run/metad-metrics.port" 2>>"$run/metad.log" &
pids+=($!)
for _ in $(seq 100); do [ -s "$run/metad.port" ] && break; sleep 0.05; done
[ -s "$run/metad.port" ] || { echo "demo: ufc-metad did not start:" >&2; cat "$run/metad.log" >&2; exit 1; }
metad="127.0.0.1:$(cat "$run/metad.port")"
sync_service() {  # sync_service <weight of the first> <weight of the second>
  cat > "$run/sync-echo.json" <<JSON
{"name": "sync-echo", "balancing": {"policy": "weighted_round_robin"}, "endpoints": [
  {"address": "127.0.0.1:$(cat "$run/18081.port")", "weight": $1},
  {"address": "127.0.0.1:$(cat "$run/18085.port")", "weight": $2}]}
JSON
  build/metad/ufcctl --server="$metad" put "$run/sync-echo.json" | sed 's/^/  ufcctl put: /'
}
sync_service 1 1
build/examples/bypass_client --sync="$metad" --service=sync-echo --seconds=2.5 --threads=4 \
  --interval_ms=250 2>/dev/null &
client=$!
sleep 1.2
sync_service 9 1
wait $client
echo
echo "What the control server holds ('ufcctl list'):"
build/metad/ufcctl --server="$metad" list

echo
echo "The agent: ufc-agentd takes every service from the same ufc-metad; a Python caller asks"
echo "it for picks of \"sync-echo\" over gRPC, does a real HTTP GET to each, and reports the"
echo "outcome (clients/python/examples/pick_get_report.py)."
build/agentd/ufc-agentd --metad="$metad" --listen=127.0.0.1:0 --port_file="$run/agent.port" \
  --proxy_listen=127.0.0.1:0 --proxy_port_file="$run/proxy.port" \
  --admin_listen=127.0.0.1:0 --admin_port_file="$run/admin.port" \
  --event_log="$run/agent-events.jsonl" \
  --cache_dir="$run/agent-cache" 2>>"$run/agent.log" &
pids+=($!)
for _ in $(seq 100); do [ -s "$run/agent.port" ] && break; sleep 0.05; done
[ -s "$run/agent.port" ] || { echo "demo: ufc-agentd did not start:" >&2; cat "$run/agent.log" >&2; exit 1; }
clients/python/generate.sh "$run/py" >/dev/null
sleep 0.3  # its first sync
PYTHONPATH="clients/python:$run/py" /usr/bin/python3 clients/python/examples/pick_get_report.py \
  --agent="127.0.0.1:$(cat "$run/agent.port")" --service=sync-echo --timeout_ms=200 -n 6
echo
echo "The agent is in the control server's freshness table ('ufcctl clients'):"
build/metad/ufcctl --server="$metad" clients | grep -E "CLIENT|agentd" || true
echo
echo "Pass-through mode: plain curl to the agent's HTTP proxy, which picks, forwards, reports:"
proxy_port=$(cat "$run/proxy.port")
for i in 1 2 3; do
  curl -s -m 5 -H 'x-ufc-service-name: sync-echo' -H 'x-ufc-timeout-ms: 200' \
    "http://127.0.0.1:$proxy_port/demo$i"
done
echo "and its own answers, with x-ufc-reason:"
curl -s -m 5 -i -H 'x-ufc-service-name: no-such-service' "http://127.0.0.1:$proxy_port/" |
  grep -E "^HTTP|^x-ufc-reason" || true
echo
admin_port=$(cat "$run/admin.port")
echo "What the agent shows: its status page is http://127.0.0.1:$admin_port/ ; a few of its"
echo "Prometheus series (GET /metrics):"
curl -s -m 5 "http://127.0.0.1:$admin_port/metrics" |
  grep -E '^ufc_requests_total\{.*sync-echo|^ufc_service_config_version\{.*sync-echo' | head -6 || true
echo "and its events as JSON lines (--event_log):"
head -3 "$run/agent-events.jsonl" || true
