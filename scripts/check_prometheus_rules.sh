#!/usr/bin/env bash
# Checks the shipped Prometheus rules: syntax (promtool check rules) and unit tests
# (promtool test rules). Usage: scripts/check_prometheus_rules.sh [repo-root]
# (default: the directory above this script). PROMTOOL overrides the promtool binary.
set -euo pipefail

root=${1:-"$(dirname "$0")/.."}
cd "$root"
promtool=${PROMTOOL:-promtool}

if ! command -v "$promtool" >/dev/null 2>&1; then
  echo "check_prometheus_rules: '$promtool' not found; install Prometheus' promtool" \
    "(Debian: apt-get install prometheus) or set PROMTOOL" >&2
  exit 1
fi

echo "== promtool check rules deploy/prometheus/ufc-rules.yml" >&2
"$promtool" check rules deploy/prometheus/ufc-rules.yml

echo "== promtool test rules deploy/prometheus/tests/ufc-rules-test.yml" >&2
"$promtool" test rules deploy/prometheus/tests/ufc-rules-test.yml
