#!/usr/bin/env bash
# Runs the libFuzzer harnesses of tests/fuzz for a given time each, a few at a time.
#
#   scripts/fuzz.sh                      # every fuzzer, 60 s each, two at a time
#   scripts/fuzz.sh -t 600 deadline_fuzz # one fuzzer, ten minutes
#   scripts/fuzz.sh -j 1 -t 30           # one at a time
#
# Configures and builds build-fuzz/ (clang, -DUFC_FUZZ=ON, only the fuzz targets) first.
# Each fuzzer starts from its committed corpus (tests/fuzz/corpus/<name>/) and regressions
# (tests/fuzz/regressions/<name>/), which it only reads; what it finds goes to a temporary
# working corpus, and crashers to the output directory (-o, default a temporary one, kept
# when something was found). Copy a crasher to tests/fuzz/regressions/<name>/ to keep it:
# every build replays that directory as a ctest test.
#
# Exit status 1 on a crash, a leak, a sanitizer report, an out-of-memory or a broken
# invariant (the harnesses abort). A timeout (one input over -timeout seconds) is reported
# and the fuzzer restarted for the rest of its time, but does not fail the run: slow
# inputs on huge configs are known until config compilation is linear (issue 11).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

seconds=60
jobs=2
out=""
build=build-fuzz
while getopts "t:j:o:b:h" opt; do
  case $opt in
    t) seconds=$OPTARG ;;
    j) jobs=$OPTARG ;;
    o) out=$OPTARG ;;
    b) build=$OPTARG ;;
    *) sed -n '2,20p' "$0" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
all=(json_config_fuzz service_config_fuzz client_config_fuzz deadline_fuzz address_fuzz
     http_parser_fuzz sync_cache_fuzz watch_response_fuzz)
fuzzers=("$@")
[ ${#fuzzers[@]} -eq 0 ] && fuzzers=("${all[@]}")

echo "== fuzz: building ${fuzzers[*]} in $build (clang, ASan+UBSan+libFuzzer)" >&2
CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DUFC_FUZZ=ON -DUFC_BUILD_TESTS=OFF -DUFC_BUILD_BENCH=OFF -DUFC_BUILD_EXAMPLES=OFF \
  -DUFC_INSTALL=OFF -DUFC_WITH_GRPC=OFF >/dev/null
cmake --build "$build" -j "${UFC_JOBS:-$jobs}" --target "${fuzzers[@]}"

[ -n "$out" ] || out=$(mktemp -d /tmp/ufc-fuzz.XXXXXX)
mkdir -p "$out"
timeout_code=86

# run_one NAME: fuzzes NAME for $seconds in total, restarting after a timeout.
run_one() {
  local name=$1
  local work="$out/$name/corpus" art="$out/$name/artifacts/" log="$out/$name/log"
  mkdir -p "$work" "$art"
  local dict=()
  [ -f "tests/fuzz/${name%_fuzz}.dict" ] && dict=(-dict="tests/fuzz/${name%_fuzz}.dict")
  local deadline=$((SECONDS + seconds)) rc=0 restarts=0
  : >"$log"
  while :; do
    local left=$((deadline - SECONDS))
    [ "$left" -gt 0 ] || break
    rc=0
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
      "$build/tests/fuzz/$name" -max_total_time="$left" -rss_limit_mb=2048 -timeout=10 \
      -max_len=65536 -timeout_exitcode=$timeout_code -print_final_stats=1 \
      -artifact_prefix="$art" "${dict[@]}" \
      "$work" "$root/tests/fuzz/corpus/$name" "$root/tests/fuzz/regressions/$name" \
      >>"$log" 2>&1 || rc=$?
    [ "$rc" -eq "$timeout_code" ] || break
    restarts=$((restarts + 1))
    [ "$restarts" -le 20 ] || break
  done
  local execs
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" |
          awk '{s += $2} END {print s + 0}')
  local found
  found=$(cd "$art" && ls 2>/dev/null | tr '\n' ' ')
  if [ "$rc" -ne 0 ] && [ "$rc" -ne "$timeout_code" ]; then
    echo "FAIL $name (exit $rc, $execs runs): ${found:-no artifact}; log $log" >&2
    grep -m1 -A25 -E '^==[0-9]+==ERROR|runtime error|fuzz invariant broken|ERROR: libFuzzer' \
      "$log" >&2 || tail -30 "$log" >&2
    return 1
  fi
  if [ "$restarts" -gt 0 ]; then
    echo "ok   $name ($execs runs; $restarts slow input(s) over 10 s: $found in $art)" >&2
  else
    echo "ok   $name ($execs runs, $(ls "$work" | wc -l) new corpus entries)" >&2
  fi
}

echo "== fuzz: ${#fuzzers[@]} fuzzer(s), ${seconds} s each, $jobs at a time; output in $out" >&2
# Each run leaves its verdict in a file: `wait -n` reaps jobs, so their statuses cannot be
# collected again afterwards.
for name in "${fuzzers[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  (run_one "$name" && echo ok >"$out/$name.verdict" || echo fail >"$out/$name.verdict") &
done
wait
failed=0
for name in "${fuzzers[@]}"; do
  [ "$(cat "$out/$name.verdict" 2>/dev/null)" = ok ] || failed=1
done
if [ "$failed" -ne 0 ]; then
  echo "== fuzz: FAILED; artifacts kept in $out" >&2
  exit 1
fi
echo "== fuzz: no crash, leak or broken invariant" >&2
