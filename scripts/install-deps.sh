#!/usr/bin/env bash
# Installs the Debian 12 packages UFC builds with, if any is missing. Idempotent.
set -euo pipefail

packages=(
  cmake ninja-build g++ pkg-config python3
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  libabsl-dev libc-ares-dev libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev
  etcd-server etcd-client
  python3-grpcio python3-protobuf
  nginx-light wrk curl
  prometheus chromium fonts-dejavu-core
  dnsmasq-base
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
# Packaged daemons (nginx) must not start on install: tests start their own, on loopback
# ephemeral ports. policy-rc.d exit 101 = "action forbidden" to invoke-rc.d.
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" > /dev/null
  $SUDO chmod +x "$policy"
  made_policy=1
fi
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
if [ "$made_policy" = 1 ]; then $SUDO rm -f "$policy"; fi
