#!/usr/bin/env bash
# Tests against a real node: starts OpenSearch 3.8.0 (Maven Central distribution) on 127.0.0.1 with the built
# plugin zip installed, runs the YAML REST tests (rest-api-spec/test) and the Java REST tests (integ-tests/java),
# and stops the node afterwards, also when a test fails. Expects target/neural-rescore-*.zip (mvn package).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/target}
source "$ROOT/scripts/env.sh"
PORT=${INTEG_HTTP_PORT:-9400}
NODE_DIR="$BUILD_DIR/integ-node"
trap '"$ROOT/integ-tests/node.sh" stop "$NODE_DIR"' EXIT
"$ROOT/integ-tests/node.sh" start "$NODE_DIR" "$PORT" "$ROOT"/models/test/*/
cd "$ROOT"
mvn -B -q -Pinteg verify -Dbuild.dir="$BUILD_DIR" -Dtests.rest.cluster="127.0.0.1:$PORT" -Dtests.clustername=neural-rescore-test "$@"
echo "integ tests passed against a real node"
