#!/usr/bin/env bash
# Regenerates test/oracle/*/config_dump.json and expected.json with Istio's config generator
# and traffic simulator (istio.io/istio pinned in go.mod). Needs Go >= 1.25 and the Go module
# proxy; CI does not run this (test/oracle.test.ts checks the committed fixtures instead).
#   tools/istio-oracle/regenerate.sh               all scenarios
#   tools/istio-oracle/regenerate.sh <scenario>    one scenario
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
args=(-scenarios "$here/../../test/oracle")
if [[ $# -gt 0 ]]; then args+=(-only "$1"); fi
start=$(date +%s)
ISTIO_ORACLE_GENERATE=1 go test -vet=off -count=1 -timeout 60m -run 'TestGenerate' . -args "${args[@]}"
echo "istio-oracle: fixtures regenerated in $(( $(date +%s) - start ))s"
