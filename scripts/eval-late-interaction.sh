#!/usr/bin/env bash
# Late-interaction quality (harness/late_interaction_eval.py): nDCG@10 of BM25 vs BM25 + late_interaction rescoring
# (zero-shot MiniLM token vectors) per encoding and scoring on SciFact and TREC DL 2019, and the loss from float.
# Writes results/late-interaction/quality.md, quality-results.json and runs/. Takes about an hour on 2 cores
# (indexing both corpora through the model is most of it; a rerun reuses the indexes of a running node).
#   scripts/eval-late-interaction.sh                         builds the zip, starts a node on LI_PORT (9741, heap
#                                                            NODE_HEAP, default 3g), runs, stops it
#   scripts/eval-late-interaction.sh --url http://host:9200  uses a running node with the plugin
#   extra arguments go to harness/late_interaction_eval.py (--collections, --max-queries, --top-k-prime, --models,
#   --encodings, --scorings, --out, ...); EXTRA_MODELS="dir ..." copies more model folders onto the node, e.g.
#   EXTRA_MODELS=models/build/minilm-colbert-v1-fp32 scripts/eval-late-interaction.sh \
#     --models all-minilm-l6-v2,minilm-colbert-v1:128,minilm-colbert-v1-fp32:128 --scorings colbert --out results/models-eval/colbert
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export BUILD_DIR=${BUILD_DIR:-$ROOT/target}
source "$ROOT/scripts/env.sh"
PYTHON=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}
export NODE_HEAP=${NODE_HEAP:-3g}
for a in "$@"; do
  if [ "$a" = "--url" ]; then exec "$PYTHON" "$ROOT/harness/late_interaction_eval.py" "$@"; fi
done
PORT=${LI_PORT:-9741}
NODE_DIR="$BUILD_DIR/li-node"
echo "== building the plugin zip into $BUILD_DIR"
(cd "$ROOT" && mvn -B -q package -DskipUnitTests=true -DskipClusterTests=true -Dbuild.dir="$BUILD_DIR")
trap '"$ROOT/integ-tests/node.sh" stop "$NODE_DIR"' EXIT
# shellcheck disable=SC2086
"$ROOT/integ-tests/node.sh" start "$NODE_DIR" "$PORT" ${EXTRA_MODELS:-}
"$PYTHON" "$ROOT/harness/late_interaction_eval.py" --url "http://127.0.0.1:$PORT" --heap "$NODE_HEAP" "$@"
