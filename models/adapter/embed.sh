#!/usr/bin/env bash
# Embeds a JSONL (BEIR: _id/id, text, optional title -> "title text") or TSV file with the plugin's own embedding code
# (io.neuralrescore.tools.EmbedDump, test scope) and writes OUT.f32 (float32 LE [n, dim]), OUT.ids, OUT.meta.json.
#   models/adapter/embed.sh --in /work/shared/data/scifact/corpus.jsonl --out models/build/adapter/emb/scifact_corpus
#   models/adapter/embed.sh --in pairs.tsv --format tsv --header --id-col 1 --text-col 6 --dedupe --out ...
# Builds into its own build dir (BUILD_DIR, default /tmp/build-adapter) so concurrent builds in target/ are untouched.
# Runs niced with one inference thread (the registry's OnnxOptions.cpu(1)).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD_DIR="${BUILD_DIR:-/tmp/build-adapter}"
cd "$ROOT"
# shellcheck source=/dev/null
source scripts/env.sh
CP_FILE="$BUILD_DIR/adapter-test-classpath.txt"
if [ "${SKIP_BUILD:-0}" != 1 ] || [ ! -f "$CP_FILE" ] || [ ! -d "$BUILD_DIR/test-classes" ]; then
  mvn -q -Dbuild.dir="$BUILD_DIR" process-resources test-compile >&2
  mvn -q -Dbuild.dir="$BUILD_DIR" dependency:build-classpath -Dmdep.outputFile="$CP_FILE" -Dmdep.includeScope=test >&2
fi
exec nice -n "${NICE:-15}" java -Xmx2g -Djna.nosys=true -Djna.nounpack=true --enable-native-access=ALL-UNNAMED \
  -Dtests.bundled.models="$BUILD_DIR/bundled-models" -Dtests.repo.root="$ROOT" \
  -cp "$BUILD_DIR/test-classes:$BUILD_DIR/classes:$(cat "$CP_FILE")" \
  io.neuralrescore.tools.EmbedDump "$@"
