#!/usr/bin/env bash
# The project's test command (README): unit tests, in-JVM cluster tests (2 nodes, 3 shards), the plugin zip,
# then YAML and Java REST tests against a real OpenSearch 3.8.0 node with that zip installed.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$ROOT/scripts/env.sh"
cd "$ROOT"
echo "== unit and in-JVM cluster tests, plugin zip (JDK: $JAVA_HOME)"
mvn -B -q verify
echo "== REST tests against a real node"
"$ROOT/integ-tests/run.sh"
echo "== all tests passed"
