"""Markdown tables and PNG plots (matplotlib, optional: without it the plots are skipped with a note)."""
import os
import platform
import subprocess
import time


def machine_info():
    """One line about where numbers were measured."""
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
            mem = "%.0f GB RAM" % (kb / 1024 / 1024)
    except (OSError, ValueError, IndexError):
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return "%s, %d cores, %s, %s; load average at start %.1f" % (
        cpu or platform.processor(), os.cpu_count() or 0, mem, platform.platform(terse=True), load)


def code_version(repo):
    """HEAD commit, and whether the working tree (plugin sources included) had uncommitted changes."""
    try:
        head = subprocess.run(["git", "-C", repo, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", repo, "status", "--porcelain", "plugin-src", "pom.xml"], capture_output=True, text=True,
                               timeout=10).stdout.strip()
        return head + (" + uncommitted changes in plugin-src/pom.xml" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def busy_processes(min_cpu=20.0):
    """Other processes using CPU at the time of the run (for the report's conditions)."""
    try:
        out = subprocess.run(["ps", "-eo", "pcpu,ni,comm,args", "--sort=-pcpu"], capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    rows = []
    for line in out.splitlines()[1:]:
        parts = line.split(None, 3)
        if len(parts) < 4:
            continue
        try:
            cpu = float(parts[0])
        except ValueError:
            continue
        if cpu >= min_cpu:
            rows.append("%s%% CPU, nice %s: %s" % (parts[0], parts[1], parts[3][:110]))
    return rows


def md_table(headers, rows, align=None):
    align = align or ["---"] * len(headers)
    out = ["| " + " | ".join(headers) + " |", "| " + " | ".join(align) + " |"]
    for r in rows:
        out.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(out)


def have_matplotlib():
    try:
        import matplotlib  # noqa: F401
        return True
    except ImportError:
        return False


def pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt
