# Sourced by the project's scripts: picks a JDK 21+ for Maven and the node.
# Honors JAVA_HOME when it already points at 21+; else searches the usual JVM folders.
find_jdk() {
  local candidates=()
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  for d in /usr/lib/jvm/* /opt/java/* /opt/jdk* "$HOME"/.sdkman/candidates/java/*; do
    [ -d "$d" ] && candidates+=("$d")
  done
  local best="" best_ver=0
  for d in "${candidates[@]}"; do
    [ -x "$d/bin/javac" ] || continue
    local ver
    ver=$("$d/bin/java" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2}' | cut -d. -f1)
    [[ "$ver" =~ ^[0-9]+$ ]] || continue
    if [ "$ver" -ge 21 ] && [ "$ver" -gt "$best_ver" ]; then best="$d"; best_ver="$ver"; fi
  done
  if [ -z "$best" ]; then
    echo "error: no JDK 21 or newer found (looked at JAVA_HOME and /usr/lib/jvm); install one, e.g. apt-get install openjdk-21-jdk-headless" >&2
    return 1
  fi
  echo "$best"
}
JAVA_HOME=$(find_jdk) || exit 1
export JAVA_HOME
export PATH="$JAVA_HOME/bin:$PATH"
