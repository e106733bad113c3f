#!/usr/bin/env bash
# Late-interaction speed and storage, side by side in one run (harness/late_interaction_bench.py): the plugin's
# late_interaction rescorer over stored vectors per encoding vs the same MaxSim in a painless script_score over
# _source float arrays (through a node), Lucene's LateInteractionRescorer vs the plugin's shard rescorer (in
# process), and storage per document per encoding. Writes results/late-interaction/bench.md and bench-results.json.
# Takes about 30 minutes on 2 cores (indexing 1,100 SciFact documents through the model is most of it).
#   scripts/bench-late-interaction.sh                         builds (zip + test classes), starts a node on
#                                                             LI_PORT (9741, heap NODE_HEAP, default 3g), runs, stops it
#   scripts/bench-late-interaction.sh --url http://host:9200  uses a running node with the plugin (builds test classes only)
#   extra arguments go to harness/late_interaction_bench.py (--docs, --queries, --windows, --painless-requests, ...)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export BUILD_DIR=${BUILD_DIR:-$ROOT/target}
source "$ROOT/scripts/env.sh"
PYTHON=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}
export NODE_HEAP=${NODE_HEAP:-3g}
external=false
for a in "$@"; do
  if [ "$a" = "--url" ]; then external=true; fi
done
if $external; then
  echo "== building the test classes into $BUILD_DIR"
  (cd "$ROOT" && mvn -B -q test-compile -Dbuild.dir="$BUILD_DIR")
  exec "$PYTHON" "$ROOT/harness/late_interaction_bench.py" --build-dir "$BUILD_DIR" "$@"
fi
PORT=${LI_PORT:-9741}
NODE_DIR="$BUILD_DIR/li-node"
echo "== building the plugin zip and test classes into $BUILD_DIR"
(cd "$ROOT" && mvn -B -q package -DskipUnitTests=true -DskipClusterTests=true -Dbuild.dir="$BUILD_DIR")
trap '"$ROOT/integ-tests/node.sh" stop "$NODE_DIR"' EXIT
"$ROOT/integ-tests/node.sh" start "$NODE_DIR" "$PORT"
"$PYTHON" "$ROOT/harness/late_interaction_bench.py" --url "http://127.0.0.1:$PORT" --build-dir "$BUILD_DIR" --heap "$NODE_HEAP" "$@"
