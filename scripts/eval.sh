#!/usr/bin/env bash
# Quality harness (harness/eval.py): nDCG@10, R@100, MRR@10 and latency of BM25 and of each rescore clause of
# harness/configs/eval.json, on the judged collections it names; writes results/eval/ (eval.md, eval-results.json,
# ndcg-vs-latency.png, runs/). Takes about an hour on 2 cores.
#   scripts/eval.sh                         builds the zip, starts a node on EVAL_PORT (9602) with the models the
#                                           config needs, runs, stops the node
#   scripts/eval.sh --url http://host:9200  uses a running node instead (it must have the config's models)
#   extra arguments go to harness/eval.py, e.g. --collections trec-dl-2019, --max-queries 20, --config FILE
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export BUILD_DIR=${BUILD_DIR:-$ROOT/target}
source "$ROOT/scripts/env.sh"
PYTHON=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}
for a in "$@"; do
  if [ "$a" = "--url" ]; then exec "$PYTHON" "$ROOT/harness/eval.py" "$@"; fi
done
PORT=${EVAL_PORT:-9602}
NODE_DIR="$BUILD_DIR/eval-node"
MODELS=("$ROOT/models/build/minilm-ce-speed-int8")  # the config's cross-encoder (latency reference, untrained)
if [ ! -f "${MODELS[0]}/model.onnx" ]; then
  echo "== building ${MODELS[0]} (models/tools/make_minilm_cross_encoder.py)"
  "$PYTHON" "$ROOT/models/tools/make_minilm_cross_encoder.py" --int8
fi
echo "== building the plugin zip"
(cd "$ROOT" && mvn -B -q package -DskipUnitTests=true -DskipClusterTests=true -Dbuild.dir="$BUILD_DIR")
trap '"$ROOT/integ-tests/node.sh" stop "$NODE_DIR"' EXIT
"$ROOT/integ-tests/node.sh" start "$NODE_DIR" "$PORT" "${MODELS[@]}"
"$PYTHON" "$ROOT/harness/eval.py" --url "http://127.0.0.1:$PORT" "$@"
