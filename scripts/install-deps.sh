#!/usr/bin/env bash
# Installs every Debian 12 package that dal needs to build, test and benchmark.
# Idempotent: packages already present are skipped, so a warm machine pays almost nothing.
#   scripts/install-deps.sh               everything: toolchain, libraries, test servers
#   scripts/install-deps.sh --build-only  what building the library and examples needs
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build g++
  # libraries (headers + link libraries); Debian 12 ships Boost 1.81 beside the default 1.74
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libboost-test1.81-dev
  libfmt-dev libpq-dev libmariadb-dev libsqlite3-dev
)
if [[ ${1:-} != --build-only ]]; then
  packages+=(
    # second compiler, fuzzing runtime, linters, benchmarks
    clang clang-tidy clang-format libclang-rt-14-dev libbenchmark-dev
    # servers the integration tests start on loopback, and openssl for their TLS certificates
    postgresql mariadb-server pgbouncer openssl
  )
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
# Debian's maintainer scripts would start system-wide servers on the default ports (PostgreSQL
# 5432, MariaDB 3306, PgBouncer 6432); the tests start their own private instances on other
# ports instead, so keep the system ones from starting at all.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' | "${sudo_cmd[@]}" tee "$policy" >/dev/null
  "${sudo_cmd[@]}" chmod +x "$policy"
  created_policy=1
fi
cleanup() { if ((created_policy)); then "${sudo_cmd[@]}" rm -f "$policy"; fi; }
trap cleanup EXIT
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
