#!/usr/bin/env python3
"""Reads compare.sh's results directory and prints berth and containerd side by side with the
berth/containerd ratio of each number (below 1: berth is faster or smaller)."""
import json
import re
import sys

results = sys.argv[1]


def read(name):
    try:
        with open(f"{results}/{name}") as f:
            return f.read()
    except OSError:
        return ""


def latencies(text, label):
    """(p50, p99) in ms from a line 'LABEL ... p50 X ms  p99 Y ms'."""
    for line in text.splitlines():
        if line.startswith(label):
            m = re.search(r"p50\s+([\d.]+) ms\s+p99\s+([\d.]+) ms", line)
            if m:
                return float(m.group(1)), float(m.group(2))
    return None


def churn_memory(text):
    """RSS and anonymous RSS (KiB) at the first and the last sample of churn_bench."""
    rows = [line.split() for line in text.splitlines() if re.match(r"^\s*\d+\s+\d+\s+\d+", line)]
    if not rows:
        return None
    return (int(rows[0][1]), int(rows[0][2])), (int(rows[-1][1]), int(rows[-1][2]))


def concurrent_wall(text):
    m = re.search(r"concurrent RunPodSandbox: wall ([\d.]+) ms", text)
    return float(m.group(1)) if m else None


sides = ("berth", "containerd")
rows = []
for label, file, key in (("RunPodSandbox", "sandbox", "RunPodSandbox"),
                         ("StopPodSandbox+RemovePodSandbox", "sandbox", "StopPodSandbox+Remove"),
                         ("CreateContainer+StartContainer", "container", "CreateContainer+Start"),
                         ("churn cycle (runp+create+start+stopp+rmp)", "churn", "churn cycle")):
    values = [latencies(read(f"{side}.{file}"), key) for side in sides]
    rows.append((f"{label} p50 (ms)", *[v[0] if v else None for v in values]))
    rows.append((f"{label} p99 (ms)", *[v[1] if v else None for v in values]))
rows.append(("10 concurrent RunPodSandbox, wall (ms)",
             *[concurrent_wall(read(f"{side}.sandbox")) for side in sides]))
for index, label in ((0, "daemon RSS (KiB)"), (1, "daemon anonymous RSS (KiB)")):
    memory = [churn_memory(read(f"{side}.churn")) for side in sides]
    rows.append((f"{label} before churn", *[m[0][index] if m else None for m in memory]))
    rows.append((f"{label} after churn", *[m[1][index] if m else None for m in memory]))
for key, label in (("idle_pss_kib", "runtime Pss idle (KiB)"),
                   ("per_pod_pss_kib", "runtime Pss per running pod (KiB)")):
    values = []
    for side in sides:
        text = read(f"{side}.memory")
        values.append(json.loads(text)[key] if text else None)
    rows.append((label, *values))

versions = read("containerd.version").strip() + "; " + read("runc.version").strip()
print(f"berth vs {versions}")
print()
print("| | berth | containerd | berth / containerd |")
print("| --- | ---: | ---: | ---: |")
for label, berth, containerd in rows:
    ratio = f"{berth / containerd:.2f}" if berth is not None and containerd else "-"
    fmt = lambda v: "-" if v is None else (f"{v:.2f}" if isinstance(v, float) else str(v))
    print(f"| {label} | {fmt(berth)} | {fmt(containerd)} | {ratio} |")
