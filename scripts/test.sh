#!/usr/bin/env bash
# The project's test command (README): every package, with a time limit
# that keeps the suite well inside CI's budget on two cores.
set -euo pipefail
cd "$(dirname "$0")/.."
exec go test -timeout 20m "$@" ./...
