#!/usr/bin/env bash
# The demo command: installs what building needs (if missing), builds dal and runs the Getting
# Started example on an embedded SQLite file. Run it from anywhere, as root or with sudo:
#
#   scripts/demo.sh [path/to/file.db]
set -euo pipefail
ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
cd "$ROOT"

bash scripts/install-deps.sh --build-only
cmake -S . -B build/demo -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DDAL_BUILD_TESTS=OFF -DDAL_BUILD_BENCH=OFF -DDAL_BUILD_EXAMPLES=ON >/dev/null
cmake --build build/demo -j2 --target getting_started
db=${1:-$ROOT/build/demo/getting_started.db}
echo "==> running examples/getting_started on $db"
exec build/demo/examples/getting_started "$db"
