#!/usr/bin/env python3
"""The images critest (cri-tools v1.36) pulls, rebuilt from Debian's busybox-static.

    python3 critest_images.py list
    python3 critest_images.py build-push --out DIR --registry-dir REGDIR

`list` prints the table below. `build-push` builds every image that can be built as an OCI
layout under DIR/layouts (test/fixtures/images.py), pushes it to the registry that
test/fixtures/registry.py started in REGDIR, under the same repository path and tag it has
upstream (one registry serves every upstream host: berthd mirrors each host to it), and writes
DIR/images.json: {"registry": "127.0.0.1:PORT", "hosts": [...], "images": [...],
"not_built": [...]}.

The names and what critest does with each come from cri-tools v1.36.0 (pkg/validate/consts.go,
security_context_linux.go, multi_container_linux.go, pkg/framework/util.go, images/). These are
stand-ins, not the upstream images: the same names, tags, users and behaviour critest looks at,
built from busybox-static (the web servers are busybox httpd). Images that need more than
busybox:

- nonewprivs: a setuid-root static binary printing "Effective uid: N"; compiled here with `cc
  -static` (Debian's build-essential), skipped when there is no compiler.
- test-image-digest@sha256:9700f9a2...: pulled by the upstream manifest digest, which no
  rebuild can reproduce; not built (run-critest.sh skips that spec).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # keep the source tree clean
FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fixtures")
sys.path.insert(0, FIXTURES)
import images  # noqa: E402  (test/fixtures/images.py)
import registry  # noqa: E402  (test/fixtures/registry.py)

E2E = "registry.k8s.io/e2e-test-images/"
CRI_TOOLS = "gcr.io/k8s-staging-cri-tools/"
# Hosts berthd mirrors to the local registry. docker.io is not used by critest v1.36 itself but
# is mirrored too, so that a --test-images-file naming Docker Hub images stays local.
HOSTS = ["registry.k8s.io", "k8s.gcr.io", "gcr.io", "docker.io"]

# upstream busybox's users, which the user images refer to (www-data is uid 33).
PASSWD = ("root:x:0:0:root:/root:/bin/sh\n"
          "daemon:x:1:1:daemon:/usr/sbin:/bin/false\n"
          "bin:x:2:2:bin:/bin:/bin/false\n"
          "sys:x:3:3:sys:/dev:/bin/false\n"
          "www-data:x:33:33:www-data:/var/www:/bin/false\n"
          "nobody:x:65534:65534:nobody:/home:/bin/false\n")
GROUP = ("root:x:0:\n"
         "daemon:x:1:\n"
         "bin:x:2:\n"
         "sys:x:3:\n"
         "www-data:x:33:\n"
         "nobody:x:65534:\n")

NGINX_START = """#!/bin/sh
# berth critest stand-in for {ref}: busybox httpd on :{port}, run from a
# copy of busybox named nginx (so `pidof nginx` finds it) with its pid in /var/run/nginx.pid.
# The realm puts "nginx: master process" in its command line, which critest's ContainerPID spec
# waits for in /proc/1/cmdline (as nginx's master process titles itself).
echo $$ > /var/run/nginx.pid
exec -a busybox /usr/sbin/nginx httpd -f -v -p {port} -h /usr/share/nginx/html -r "nginx: master process"
"""
# Debian's busybox-static has no ipcs applet; critest's HostIpc specs run `ipcs -m` and look for
# the shmid of a segment made on the host (ipcmk): the kernel's own table has it.
IPCS = """#!/bin/sh
# berth critest stand-in for ipcs (Debian's busybox-static has no ipcs applet).
cat /proc/sysvipc/shm
"""
# Nor pgrep; critest's execSync-with-timeout spec runs `pgrep sleep || true` and wants no output
# once the timed-out `sleep` is gone.
PGREP = """#!/bin/sh
# berth critest stand-in for pgrep NAME (Debian's busybox-static has no pgrep applet).
found=1
for dir in /proc/[0-9]*; do
  read -r name < "$dir/comm" 2>/dev/null || continue
  case "$name" in *"$1"*) echo "${dir#/proc/}"; found=0 ;; esac
done
exit $found
"""
HTTPD_START = """#!/bin/sh
# berth critest stand-in for {ref}: busybox httpd on :80.
# Apache logs its command line at start; critest's multi-container log spec looks for it.
echo "httpd: berth critest stand-in (busybox httpd) serving /usr/local/apache2/htdocs on :80; Command line: 'httpd -D FOREGROUND'"
exec httpd -f -v -p 80 -h /usr/local/apache2/htdocs
"""
NNP_C = r"""#include <stdio.h>
#include <unistd.h>
int main(void) {
  printf("Effective uid: %d\n", (int)geteuid());
  return 0;
}
"""
NGINX_INDEX = "<html><body><h1>Welcome to nginx!</h1><p>berth critest stand-in</p></body></html>\n"
HTTPD_INDEX = "<html><body><h1>It works!</h1></body></html>\n"


def all_applets() -> list[str]:
    out = subprocess.run([images.BUSYBOX, "--list"], stdout=subprocess.PIPE, text=True,
                         check=True).stdout
    # `busybox --list` names busybox itself (Debian's 1.35 does): a bin/busybox -> busybox
    # symlink would replace the binary with a loop (ELOOP on every exec in the container).
    return sorted({a for a in out.split() if a and "/" not in a}
                  - set(images.APPLETS) - {"busybox"})


def base_layer(passwd: str = PASSWD, group: str = GROUP,
               extra: list[images.Entry] | None = None) -> images.Layer:
    """busybox-static with a /bin hard link for every applet it has (as upstream busybox images:
    critest masks /bin/ls and expects only ls to go), and upstream busybox's users."""
    entries = images.rootfs_entries(
        passwd=passwd, group=group, hardlinks=True,
        extra=[images.Hardlink(f"bin/{a}", "bin/busybox") for a in all_applets()]
        + [images.File("bin/ipcs", IPCS, 0o755), images.File("bin/pgrep", PGREP, 0o755)]
        + [images.Dir("var/run"), images.Dir("var/www")] + (extra or []))
    return images.Layer(entries, sort=True, implicit_dirs=True,
                        created_by="ADD busybox-static rootfs / # berth critest stand-in")


def spec(ref: str, layers: list[images.Layer], **config) -> images.ImageSpec:
    cfg = {"Env": [images.DEFAULT_PATH]}
    cfg.update(config)
    cfg.setdefault("Cmd", ["sh"])
    cfg["Labels"] = {"org.opencontainers.image.title": ref,
                     "org.opencontainers.image.description":
                         f"berth critest stand-in for {ref}, built from busybox-static"}
    return images.ImageSpec(layers=layers, config=cfg)


def marker(name: str) -> images.Layer:
    """Like cri-tools' images/image-test: `ADD ${TEST} ${TEST}` (an empty file at /NAME)."""
    return images.Layer([images.File(name, b"")], created_by=f"ADD {name} {name}")


def compile_static(source: str) -> bytes | None:
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        return None
    with tempfile.TemporaryDirectory(prefix="critest-cc-") as d:
        src, out = os.path.join(d, "p.c"), os.path.join(d, "p")
        with open(src, "w") as f:
            f.write(source)
        r = subprocess.run([cc, "-static", "-Os", "-s", "-o", out, src],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if r.returncode != 0:
            print(f"critest_images: cc -static failed:\n{r.stdout}", file=sys.stderr)
            return None
        with open(out, "rb") as f:
            return f.read()


def catalogue() -> tuple[list[dict], list[dict]]:
    """(images to build, images not built): each with ref, what, and (built ones) its specs."""
    built: list[dict] = []
    missing: list[dict] = []

    def add(refs: list[str], what: str, make) -> None:
        built.append({"refs": refs, "what": what, "make": make})

    busybox = E2E + "busybox:1.29-2"
    add([busybox], "critest's default container image: busybox-static, every applet in /bin",
        lambda: spec(busybox, [base_layer()]))

    def web(ref: str, port: int) -> images.ImageSpec:
        layer = base_layer(extra=[
            images.Hardlink("usr/sbin/nginx", "bin/busybox"),
            images.File("docker-entrypoint.sh", NGINX_START.format(ref=ref, port=port), 0o755),
            images.File("usr/share/nginx/html/index.html", NGINX_INDEX)])
        return spec(ref, [layer], Cmd=["/docker-entrypoint.sh"],
                    ExposedPorts={f"{port}/tcp": {}})

    nginx = E2E + "nginx:1.14-2"
    add([nginx], "web server on :80 (busybox httpd run as `nginx`, pid in /var/run/nginx.pid)",
        lambda: web(nginx, 80))
    hostnet = f"{CRI_TOOLS}hostnet-nginx-{images.HOST_ARCH}:latest"
    add([hostnet], "web server on :12003 for host-network pods", lambda: web(hostnet, 12003))

    httpd = E2E + "httpd:2.4.39-4"

    def make_httpd() -> images.ImageSpec:
        layer = base_layer(extra=[
            images.File("usr/local/bin/httpd-foreground", HTTPD_START.format(ref=httpd), 0o755),
            images.File("usr/local/apache2/htdocs/index.html", HTTPD_INDEX)])
        return spec(httpd, [layer], Cmd=["httpd-foreground"], ExposedPorts={"80/tcp": {}},
                    Env=[images.DEFAULT_PATH.replace("PATH=", "PATH=/usr/local/apache2/bin:")])
    add([httpd], "web server on :80 whose log says httpd", make_httpd)

    nnp_ref = E2E + "nonewprivs:1.3"
    nnp = compile_static(NNP_C)
    if nnp is None:
        missing.append({"ref": nnp_ref, "why": "no C compiler (cc -static) to build the setuid "
                                               "binary"})
    else:
        add([nnp_ref], "setuid-root static binary printing `Effective uid: N`",
            lambda: spec(nnp_ref, [base_layer(), images.Layer(
                [images.File("usr/local/bin/nnp", nnp, 0o4755)], implicit_dirs=True,
                created_by="COPY nnp /usr/local/bin/nnp; chmod +s")],
                Entrypoint=["/usr/local/bin/nnp"], Cmd=None))

    pause = ["registry.k8s.io/pause:3.9", "k8s.gcr.io/pause:3.9"]
    add(pause, "pulled from two registries as one image (never run by critest)",
        lambda: spec(pause[0], [base_layer()], Entrypoint=[
            "/bin/sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done"],
            Cmd=None))

    for name, user in (("test-image-user-uid", "1002"), ("test-image-user-username", "www-data"),
                       ("test-image-user-uid-group", "1003:1004"),
                       ("test-image-user-username-group", "www-data:1004")):
        ref = f"{CRI_TOOLS}{name}:latest"
        add([ref], f"USER {user}", lambda ref=ref, user=user: spec(ref, [base_layer()], User=user))

    group_ref = CRI_TOOLS + "test-image-predefined-group:latest"
    add([group_ref], "USER 1000 (default-user), member of group-defined-in-image (gid 50000)",
        lambda: spec(group_ref, [base_layer(
            passwd=PASSWD + "default-user:x:1000:1000:Linux User,,,:/home/default-user:/bin/sh\n",
            group=GROUP + "default-user:x:1000:\ngroup-defined-in-image:x:50000:default-user\n",
            extra=[images.Dir("home/default-user", 0o755, uid=1000, gid=1000)])], User="1000"))

    for name in ("test-image-latest", "test-image-1", "test-image-2", "test-image-3"):
        ref = f"{CRI_TOOLS}{name}:latest"
        add([ref], f"busybox + /{name}",
            lambda ref=ref, name=name: spec(ref, [base_layer(), marker(name)]))
    tags = [f"{CRI_TOOLS}test-image-tags:{t}" for t in (1, 2, 3)]
    add(tags, "one image under three tags (busybox + /same-image)",
        lambda: spec(CRI_TOOLS + "test-image-tags", [base_layer(), marker("same-image")]))
    for tag in ("test", "all"):
        ref = f"{CRI_TOOLS}test-image-tag:{tag}"
        add([ref], f"busybox + /{tag}", lambda ref=ref, tag=tag: spec(ref, [base_layer(),
                                                                            marker(tag)]))

    missing.append({"ref": CRI_TOOLS + "test-image-digest@sha256:"
                           "9700f9a2f5bf2c45f2f605a0bd3bce7cf37420ec9d3ed50ac2758413308766bf",
                    "why": "pulled by the upstream manifest's digest, which a rebuild cannot "
                           "reproduce"})
    return built, missing


def split(ref: str) -> tuple[str, str, str]:
    """registry.k8s.io/e2e-test-images/busybox:1.29-2 -> (host, repository path, tag)."""
    host, _, rest = ref.partition("/")
    path, _, tag = rest.rpartition(":")
    return host, path, tag


def cmd_list() -> int:
    built, missing = catalogue()
    for item in built:
        for ref in item["refs"]:
            print(f"{ref:72} {item['what']}")
    for item in missing:
        print(f"{item['ref']:72} NOT BUILT: {item['why']}")
    return 0


def cmd_build_push(out: str, registry_dir: str) -> int:
    out = os.path.abspath(out)
    os.makedirs(os.path.join(out, "layouts"), exist_ok=True)
    info = registry.load_info(registry_dir)
    client = registry.client_for(registry_dir)
    built, missing = catalogue()
    records = []
    for n, item in enumerate(built):
        image_spec = item["make"]()
        if image_spec.config.get("Cmd") is None:
            image_spec.config.pop("Cmd", None)
        layout = os.path.join(out, "layouts", f"{n:02d}-" + split(item["refs"][0])[1]
                              .replace("/", "_"))
        rec = images.build_image(image_spec, layout, ref="latest")
        pushed: set[tuple[str, str]] = set()
        for ref in item["refs"]:
            host, path, tag = split(ref)
            if (path, tag) not in pushed:  # k8s.gcr.io/pause and registry.k8s.io/pause: one repo
                registry.push_layout(client, layout, path, tag)
                pushed.add((path, tag))
            records.append({"ref": ref, "host": host, "repository": path, "tag": tag,
                            "manifest_digest": rec["manifest_digest"], "image_id": rec["image_id"],
                            "what": item["what"]})
    doc = {"registry": info["host"], "hosts": HOSTS, "images": records, "not_built": missing}
    with open(os.path.join(out, "images.json"), "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    print(f"critest_images: {len(records)} references pushed to {info['host']}, "
          f"{len(missing)} not built")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list", help="print the images and what each stands for")
    bp = sub.add_parser("build-push", help="build the images and push them to a local registry")
    bp.add_argument("--out", required=True, help="directory for layouts and images.json")
    bp.add_argument("--registry-dir", required=True, help="state dir of registry.py start")
    args = ap.parse_args()
    if args.cmd == "list":
        return cmd_list()
    return cmd_build_push(args.out, args.registry_dir)


if __name__ == "__main__":
    sys.exit(main())
