"""Runs the test-scope Java benchmark classes (plugin-src/test/java/io/neuralrescore/bench) outside Maven.

The classpath comes from `mvn dependency:build-classpath` and is handed to `java` inside a manifest-only "pathing"
jar, as surefire does: ONNX Runtime 1.29's Java binding crashes the JVM (SIGSEGV in OrtEnvironment.getEnvironment)
when java.class.path is longer than about 4 KB, which the 80 test dependencies exceed.
"""
import os
import subprocess
import zipfile


def repo_root():
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _wrap_manifest_value(key, value):
    line = "%s: %s" % (key, value)
    raw = line.encode("utf-8")
    out = [raw[:72]]
    raw = raw[72:]
    while raw:
        out.append(b" " + raw[:71])
        raw = raw[71:]
    return b"\r\n".join(out) + b"\r\n"


def pathing_jar(build_dir, refresh=False):
    """Builds (if needed) and returns <build_dir>/bench-classpath.jar: test-classes, classes and all test-scope
    dependencies. Expects `mvn test-compile -Dbuild.dir=<build_dir>` to have run."""
    build_dir = os.path.abspath(build_dir)
    cp_file = os.path.join(build_dir, "test-classpath.txt")
    jar = os.path.join(build_dir, "bench-classpath.jar")
    pom = os.path.join(repo_root(), "pom.xml")
    if refresh or not os.path.exists(cp_file) or os.path.getmtime(cp_file) < os.path.getmtime(pom):
        p = subprocess.run(
            ["mvn", "-q", "-B", "dependency:build-classpath", "-Dbuild.dir=" + build_dir,
             "-Dmdep.outputFile=" + cp_file, "-Dmdep.includeScope=test"],
            cwd=repo_root(), capture_output=True, text=True, env=dict(os.environ, JAVA_HOME=java_home()),
        )
        if p.returncode != 0:
            raise SystemExit("error: mvn dependency:build-classpath failed:\n" + (p.stdout + p.stderr)[-3000:])
    with open(cp_file) as f:
        entries = [e for e in f.read().strip().split(os.pathsep) if e]
    for d in ("test-classes", "classes"):
        if not os.path.isdir(os.path.join(build_dir, d)):
            raise SystemExit("error: %s/%s missing; run mvn test-compile -Dbuild.dir=%s first" % (build_dir, d, build_dir))
    urls = ["file://" + os.path.join(build_dir, "test-classes") + "/", "file://" + os.path.join(build_dir, "classes") + "/"]
    urls += ["file://" + e for e in entries]
    manifest = b"Manifest-Version: 1.0\r\n" + _wrap_manifest_value("Class-Path", " ".join(urls)) + b"\r\n"
    tmp = jar + ".tmp"
    with zipfile.ZipFile(tmp, "w") as z:
        z.writestr("META-INF/MANIFEST.MF", manifest)
    os.replace(tmp, jar)
    return jar


_JAVA_HOME = None


def java_home():
    """A JDK 21+: the one scripts/env.sh picks (JAVA_HOME if it is 21+, else the newest under /usr/lib/jvm...)."""
    global _JAVA_HOME
    if _JAVA_HOME is None:
        p = subprocess.run(["bash", "-c", 'source "$1/scripts/env.sh" >/dev/null && echo "$JAVA_HOME"', "env.sh", repo_root()],
                           capture_output=True, text=True)
        if p.returncode != 0 or not p.stdout.strip():
            raise SystemExit("error: no JDK 21+ found (scripts/env.sh): " + p.stderr.strip())
        _JAVA_HOME = p.stdout.strip()
    return _JAVA_HOME


def java_command(build_dir, main_class, args, jvm_args=()):
    java = os.path.join(java_home(), "bin", "java")
    return [java, "--enable-native-access=ALL-UNNAMED", *jvm_args, "-cp", pathing_jar(build_dir), main_class, *args]
