#!/usr/bin/env bash
# Controls a real OpenSearch 3.8.0 node with the built plugin installed, for the REST tests and the demo.
#   node.sh start <dir> <http-port> [models-dir ...]   unpack the distribution into <dir>, install the plugin zip,
#                                                      copy extra model folders into config/rescore-models, start
#   node.sh stop <dir>                                 stop the node started in <dir> (no error if none runs)
# The node refuses to run as root, so as root it runs as the unprivileged user 'rescore' (created if missing).
# NODE_HEAP sets the node's heap (default 1g), e.g. NODE_HEAP=3g for ingesting token vectors of a whole corpus.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/target}
source "$ROOT/scripts/env.sh"
OS_VERSION=3.8.0
NODE_USER=rescore

as_node_user() {
  if [ "$(id -u)" = 0 ]; then
    su -s /bin/bash "$NODE_USER" -c "$*"
  else
    bash -c "$*"
  fi
}

distribution() {
  local cache="$BUILD_DIR/distribution"
  local zip="$cache/opensearch-$OS_VERSION.zip"
  if [ ! -f "$zip" ]; then
    mkdir -p "$cache"
    (cd "$ROOT" && mvn -q -B dependency:copy \
      -Dartifact="org.opensearch.distribution.integ-test-zip:opensearch:$OS_VERSION:zip" \
      -DoutputDirectory="$cache" >&2)
  fi
  echo "$zip"
}

start() {
  local dir port=$2
  dir=$(mkdir -p "$1" && cd "$1" && pwd)
  shift 2
  local plugin_zip
  plugin_zip=$(ls "$BUILD_DIR"/neural-rescore-*.zip 2>/dev/null | head -1)
  [ -n "$plugin_zip" ] || { echo "error: no plugin zip in target/; run 'mvn package' first" >&2; exit 1; }
  stop "$dir"
  rm -rf "$dir"
  mkdir -p "$dir"
  unzip -q "$(distribution)" -d "$dir"
  local home="$dir/opensearch-$OS_VERSION"
  OPENSEARCH_JAVA_HOME="$JAVA_HOME" "$home/bin/opensearch-plugin" install --batch "file://$plugin_zip" >&2
  mkdir -p "$home/config/rescore-models"
  for m in "$@"; do
    cp -r "$m" "$home/config/rescore-models/"
  done
  cat >> "$home/config/opensearch.yml" <<YML
cluster.name: neural-rescore-test
node.name: node-1
network.host: 127.0.0.1
http.port: $port
transport.port: $((port + 100))
discovery.type: single-node
YML
  cat > "$home/config/jvm.options.d/heap.options" <<JVM
-Xms${NODE_HEAP:-1g}
-Xmx${NODE_HEAP:-1g}
JVM
  if [ "$(id -u)" = 0 ]; then
    id "$NODE_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$NODE_USER"
    chown -R "$NODE_USER" "$dir"
    # the user must be able to reach the folder through its parents
    local p="$dir"
    while [ "$p" != "/" ]; do chmod o+x "$p" 2>/dev/null || true; p=$(dirname "$p"); done
  fi
  as_node_user "OPENSEARCH_JAVA_HOME='$JAVA_HOME' '$home/bin/opensearch' -d -p '$home/node.pid' > '$home/logs/console.log' 2>&1 < /dev/null"
  for _ in $(seq 1 180); do
    if curl -fs "http://127.0.0.1:$port/_cluster/health?wait_for_status=yellow&timeout=1s" >/dev/null 2>&1; then
      echo "node up on 127.0.0.1:$port" >&2
      return 0
    fi
    if [ -f "$home/node.pid" ] && ! kill -0 "$(cat "$home/node.pid")" 2>/dev/null; then break; fi
    sleep 1
  done
  echo "error: node did not start; last log lines:" >&2
  tail -50 "$home/logs/neural-rescore-test.log" >&2 || true
  stop "$dir"
  exit 1
}

stop() {
  local dir=$1
  local pidfile="$dir/opensearch-$OS_VERSION/node.pid"
  [ -f "$pidfile" ] || return 0
  local pid
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

cmd=${1:-}; shift || true
case "$cmd" in
  start) start "$@" ;;
  stop) stop "$@" ;;
  *) echo "usage: node.sh start <dir> <http-port> [models-dir ...] | stop <dir>" >&2; exit 2 ;;
esac
