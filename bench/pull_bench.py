#!/usr/bin/env python3
"""Pull benchmark: a ~200 MB image of many layers from a local docker-registry (127.0.0.1), cold
cache, pulled and unpacked by berthd (PullImage through berthctl) and, side by side in the same
run, by `skopeo copy` to an OCI layout followed by `umoci unpack` (Debian's packages) - the same
work: download, verify, decompress, apply every layer.

    sudo python3 bench/pull_bench.py --build build [--runs 5] [--layers 20] [--layer-mb 10]

Prints a table with the median wall time and MB/s (compressed bytes pulled per second) of each,
and writes the same to bench/results/pull.md unless --no-write.
"""

import argparse
import hashlib
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(SOURCE, "test", "fixtures"))
import images  # noqa: E402
import registry as registry_fixture  # noqa: E402


def layer_entries(index: int, megabytes: int) -> list:
    """Files that compress like real software: half text-like, half incompressible."""
    rng = random.Random(index)
    entries = []
    per_file = 256 * 1024
    for n in range(megabytes * 1024 * 1024 // per_file):
        if n % 2 == 0:
            words = [b"lib%d_symbol_%d" % (index, rng.randrange(5000)) for _ in range(per_file // 16)]
            data = b" ".join(words)[:per_file]
        else:
            data = rng.randbytes(per_file)
        entries.append(images.File(f"opt/layer{index}/file{n}.bin", data))
    return entries


def build_big_image(outdir: str, layers: int, layer_mb: int) -> dict:
    specs_layers = [images.rootfs_layer()]
    for i in range(layers):
        specs_layers.append(images.Layer(layer_entries(i, layer_mb), compression="gzip"))
    spec = images.ImageSpec(layers=specs_layers, config={"Cmd": ["sh"]})
    return images.build_image(spec, os.path.join(outdir, "big"), ref="latest",
                              image_name="bench/big:latest")


def timed(cmd: list, **kw) -> float:
    start = time.monotonic()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, **kw)
    return time.monotonic() - start


def wait_for_socket(path: str, process: subprocess.Popen) -> None:
    for _ in range(200):
        if os.path.exists(path):
            return
        if process.poll() is not None:
            raise RuntimeError("berthd exited during start-up")
        time.sleep(0.05)
    raise RuntimeError("berthd did not create its socket")


def berth_run(build: str, host: str, work: str) -> float:
    root = tempfile.mkdtemp(dir=work, prefix="berth-root-")
    socket = os.path.join(root, "berth.sock")
    config = os.path.join(root, "berth.yaml")
    suffix = os.urandom(3).hex()
    with open(config, "w") as f:
        # A bench-only bridge and table, removed below: the benchmark leaves the host as it was.
        f.write(f"network:\n  bridge: bb{suffix}\n  nft_table: berth_b{suffix}\n"
                f"  subnet: 10.239.{int(suffix[:2], 16)}.0/24\n")
        f.write(f'registries:\n  insecure: ["{host}"]\n')
    berthd = subprocess.Popen([os.path.join(build, "cmd/berthd/berthd"), "--config", config,
                               "--root", root + "/root", "--state", root + "/state",
                               "--listen", socket, "--log-level", "warn"])
    try:
        wait_for_socket(socket, berthd)
        return timed([os.path.join(build, "cmd/berthctl/berthctl"), "-r", "unix://" + socket,
                      "pull", f"{host}/bench/big:latest"])
    finally:
        berthd.terminate()
        berthd.wait()
        subprocess.run(["ip", "link", "delete", f"bb{suffix}"], stderr=subprocess.DEVNULL)
        subprocess.run(["nft", "delete", "table", "ip", f"berth_b{suffix}"],
                       stderr=subprocess.DEVNULL)
        shutil.rmtree(root, ignore_errors=True)


def skopeo_umoci_run(host: str, work: str) -> float:
    root = tempfile.mkdtemp(dir=work, prefix="skopeo-")
    try:
        start = time.monotonic()
        subprocess.run(["skopeo", "copy", "--quiet", "--src-tls-verify=false",
                        f"docker://{host}/bench/big:latest", f"oci:{root}/layout:latest"],
                       check=True, stdout=subprocess.DEVNULL)
        subprocess.run(["umoci", "unpack", "--image", f"{root}/layout:latest", f"{root}/bundle"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return time.monotonic() - start
    finally:
        shutil.rmtree(root, ignore_errors=True)


def machine() -> str:
    cpu = "unknown cpu"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} cores, {cpu}, kernel {platform.release()}"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", default=os.path.join(SOURCE, "build"))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--layers", type=int, default=20)
    parser.add_argument("--layer-mb", type=int, default=10)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    for tool in ("skopeo", "umoci"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is missing: scripts/install-deps.sh installs it")

    work = tempfile.mkdtemp(prefix="berth-pull-bench-")
    reg_dir = os.path.join(work, "registry")
    try:
        info = build_big_image(work, args.layers, args.layer_mb)
        manifest = json.loads(images.read_blob(info["layout"], info["manifest_digest"]))
        pulled_bytes = sum(layer["size"] for layer in manifest["layers"])
        uncompressed = sum(l.get("uncompressed_size", 0) for l in info.get("layers", []))
        os.makedirs(reg_dir)
        reg = registry_fixture.Registry(reg_dir, "anonymous")
        host = reg.start()["host"]
        try:
            registry_fixture.push_layout(reg.client(), info["layout"], "bench/big", "latest")
            berth, skopeo = [], []
            for run in range(args.runs):
                berth.append(berth_run(args.build, host, work))
                skopeo.append(skopeo_umoci_run(host, work))
                print(f"run {run + 1}: berth {berth[-1]:.2f} s, skopeo+umoci {skopeo[-1]:.2f} s",
                      flush=True)
        finally:
            reg.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    def row(name, times):
        median = statistics.median(times)
        return f"| {name} | {median:.2f} | {pulled_bytes / median / 1e6:.1f} | " + \
               ", ".join(f"{t:.2f}" for t in times) + " |"
    lines = [
        f"Pull benchmark, {time.strftime('%Y-%m-%d')}, {machine()}",
        "",
        f"Image: {len(manifest['layers'])} layers, {pulled_bytes / 1e6:.1f} MB compressed"
        + (f", {uncompressed / 1e6:.1f} MB uncompressed" if uncompressed else "")
        + f"; local docker-registry on 127.0.0.1; cold cache; {args.runs} runs.",
        "",
        "| tool | median s | MB/s | runs (s) |",
        "| --- | --- | --- | --- |",
        row("berthd PullImage (pull + unpack)", berth),
        row("skopeo copy + umoci unpack", skopeo),
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
        with open(os.path.join(HERE, "results", "pull.md"), "w") as f:
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
