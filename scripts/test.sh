#!/usr/bin/env bash
# The test command: installs what is missing, builds, runs every test suite, runs the core
# suites again under ASan+UBSan, runs every fuzzer for a minute (build-fuzz/, clang), and
# proves an outside project can build against the installed package. Works on a fresh
# Debian 12 machine.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=${UFC_JOBS:-2}

scripts/install-deps.sh

echo "== layering: includes follow the layer diagram in docs/architecture.md" >&2
python3 scripts/check_layering.py
python3 scripts/check_layering.py --self-test >/dev/null

echo "== build (RelWithDebInfo) and test" >&2
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$jobs"
ctest --test-dir build --output-on-failure -j "$jobs" --timeout 300

echo "== core suites under AddressSanitizer + UndefinedBehaviorSanitizer" >&2
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DUFC_SANITIZE=ON \
  -DUFC_BUILD_BENCH=OFF -DUFC_BUILD_EXAMPLES=OFF -DUFC_INSTALL=OFF >/dev/null
cmake --build build-asan -j "$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan -L core --output-on-failure -j "$jobs" --timeout 600

echo "== fuzzers: every harness of tests/fuzz for 60 s, two at a time (scripts/fuzz.sh)" >&2
scripts/fuzz.sh -t "${UFC_FUZZ_SECONDS:-60}" -j "$jobs"

echo "== install, then build the examples as an outside project (find_package(ufc))" >&2
rm -rf build/_install build/outside
cmake --install build --prefix build/_install >/dev/null
cmake -S examples -B build/outside -G Ninja -DCMAKE_PREFIX_PATH="$root/build/_install" >/dev/null
cmake --build build/outside -j "$jobs"
smoke=$(mktemp -d)
build/outside/backend --port=0 --port_file="$smoke/port" --mode=healthy 2>/dev/null &
backend=$!
trap 'kill $backend 2>/dev/null || true; rm -rf "$smoke"' EXIT
for _ in $(seq 100); do
  [ -s "$smoke/port" ] && break
  sleep 0.05
done
[ -s "$smoke/port" ] || { echo "outside-project backend did not start" >&2; exit 1; }
cat > build/outside/smoke.json <<JSON
{"services": [{"name": "smoke", "endpoints": [{"address": "127.0.0.1:$(cat "$smoke/port")"}]}]}
JSON
out=$(build/outside/bypass_client --config=build/outside/smoke.json --service=smoke \
  --policies=round_robin --seconds=0.3 --threads=2 2>/dev/null)
echo "$out"
echo "$out" | grep -q '"success_cnt":[1-9]' || { echo "outside-project smoke run failed" >&2; exit 1; }

echo "== benchmark smoke run (figures are not checked here; see bench/)" >&2
build/bench/pick_report_bench --benchmark_filter='BM_PickReport/policy:0/endpoints:10/|BM_PickReportHandle/policy:0/endpoints:10/|BM_DnsCostInterleaved/policy:0/' \
  --benchmark_min_time=0.01 >/dev/null
build/bench/hostile_config --scale=0.01 --timeout=60 >/dev/null
build/bench/metrics_bench --services=10 --endpoints=20 --rounds=1 >/dev/null
build/bench/fleet_bench --services=20 --endpoints=20 --updates=5 >/dev/null
build/bench/overload_sim --world=loopback --arms=ufc-adapt,ufc-adapt+deadline --profile=k=4 \
  --csv=/dev/null >/dev/null
build/bench/overload_real --quick >/dev/null
build/bench/metad_fanout --quick >/dev/null
build/bench/agent_bench --quick >/dev/null
build/bench/proxy_bench --quick >/dev/null

echo "== all tests passed" >&2
