#!/usr/bin/env python3
"""The memory a runtime spends per pod: PODS pods with one sleeping container each, made through
the CRI with crictl, and the proportional set size (Pss, /proc/PID/smaps_rollup) of the runtime's
own processes before and with them. Everything it made is removed again. Used by compare.sh:

    memory.py --crictl PATH --endpoint unix://SOCK --image NAME --pods N --work DIR \
              --report FILE -- PATTERN...

Each PATTERN is a regular expression searched in a process's command line (NUL bytes as spaces);
a process matching any of them counts as the runtime's (daemon, per-container helpers, pause)."""
import argparse
import json
import os
import re
import subprocess
import sys


def pss_kib(patterns):
    total, count = 0, 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():  # its own command line has them
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
            if not cmdline or not any(p.search(cmdline) for p in patterns):
                continue
            with open(f"/proc/{entry}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        count += 1
        except OSError:
            continue
    return total, count


def main():
    parser = argparse.ArgumentParser()
    for flag in ("--crictl", "--endpoint", "--image", "--work", "--report"):
        parser.add_argument(flag, required=True)
    parser.add_argument("--pods", type=int, default=20)
    parser.add_argument("patterns", nargs="+")
    args = parser.parse_args()
    patterns = [re.compile(p) for p in args.patterns]
    os.makedirs(args.work, exist_ok=True)

    def crictl(*rest):
        return subprocess.run([args.crictl, "-r", args.endpoint, "-t", "60s", *rest], check=True,
                              capture_output=True, text=True).stdout.strip()

    before, before_count = pss_kib(patterns)
    pods = []
    try:
        for i in range(args.pods):
            pod = {"metadata": {"name": f"mem-{i}", "namespace": "bench", "uid": f"mem-uid-{i}"},
                   "log_directory": f"{args.work}/logs-{i}", "linux": {}}
            ctr = {"metadata": {"name": "sleeper"}, "image": {"image": args.image},
                   "command": ["/bin/sleep", "300"], "log_path": "sleeper.log", "linux": {}}
            pod_file, ctr_file = f"{args.work}/pod-{i}.json", f"{args.work}/ctr-{i}.json"
            with open(pod_file, "w") as f:
                json.dump(pod, f)
            with open(ctr_file, "w") as f:
                json.dump(ctr, f)
            pod_id = crictl("runp", pod_file)
            pods.append(pod_id)
            crictl("start", crictl("create", pod_id, ctr_file, pod_file))
        loaded, loaded_count = pss_kib(patterns)
    finally:
        for pod_id in pods:
            subprocess.run([args.crictl, "-r", args.endpoint, "stopp", pod_id], capture_output=True)
            subprocess.run([args.crictl, "-r", args.endpoint, "rmp", pod_id], capture_output=True)
    report = {"pods": args.pods, "idle_pss_kib": before, "idle_processes": before_count,
              "loaded_pss_kib": loaded, "loaded_processes": loaded_count,
              "per_pod_pss_kib": round((loaded - before) / args.pods, 1)}
    with open(args.report, "w") as f:
        json.dump(report, f)
    print(json.dumps(report), file=sys.stderr)


if __name__ == "__main__":
    main()
