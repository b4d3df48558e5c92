#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora: test/fuzz/corpus/<target>/<seed>.

`python3 test/fuzz/make_corpus.py [OUTDIR]` (default: the corpus/ folder beside this script).
The seeds are small valid and near-valid inputs, deterministic, so the committed corpus is what
this script writes; rerun it after changing a seed and commit the result. Layer seeds are built
with the test fixtures' tar writer (test/fixtures/images.py); the SPDY seeds compress their header
blocks with the dictionary read from cri/streaming/spdy_header_block.cc, so both use one source.
"""

import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "test", "fixtures"))
from images import (CharDev, Dir, Entry, Fifo, File, Hardlink, Layer, Opaque,  # noqa: E402
                    Symlink, Whiteout, compress, layer_tar)

SENTINEL = "/dev/shm/berth-fuzz-layer/sentinel"  # layer_fuzzer.cc's (with a writable /dev/shm)
SHA_A = "sha256:" + "a" * 64
SHA_B = "sha256:" + "b" * 64
SHA_C = "sha256:" + "0123456789abcdef" * 4


# ---------------------------------------------------------------------------------------------
# layer: tar / tar.gz / tar.zst blobs

def trimmed_tar(entries) -> bytes:
    """The tar without Python's padding to a 10 KiB record: the entries and two zero blocks."""
    data = layer_tar(Layer(entries, compression="none"))
    end = len(data)
    while end >= 512 and data[end - 512:end] == bytes(512):
        end -= 512
    return data[:end] + bytes(1024)


def layer_seeds() -> dict:
    basic = [Dir("etc"), File("etc/hostname", "berth\n"), Dir("bin"), File("bin/busybox", "\x7fELF"),
             Symlink("bin/sh", "busybox"), Hardlink("bin/ls", "bin/busybox"), Fifo("run/fifo")]
    seeds = {
        "basic.tar": trimmed_tar(basic),
        "whiteouts.tar": trimmed_tar([Whiteout("etc/passwd"), Opaque("usr/lib"), File("usr/lib/x", "x"),
                                      Entry("etc/.wh..wh.plnk", "file")]),
        "pax-xattrs.tar": trimmed_tar([
            File("a/" + "long-name-" * 12 + "end", "data",
                 pax={"SCHILY.xattr.user.comment": "hello", "SCHILY.xattr.trusted.berth": "t",
                      "SCHILY.xattr.trusted.overlay.opaque": "y", "mtime": "1700000000.123456789"}),
            Dir("d", mode=0o1777, uid=1000, gid=1000),
            File("d/setuid", "x", mode=0o4755, uid=0, gid=0)]),
        "copy-up.tar": trimmed_tar([Hardlink("passwd-link", "etc/passwd"),
                                    Hardlink("lib-link", "lib/libc.so"), Whiteout("hidden"),
                                    Hardlink("hidden-link", "hidden/file")]),
        # Each tries to reach outside the root its own way; the applier refuses some (an error
        # ends the layer), so they are separate seeds.
        "escape-dotdot.tar": trimmed_tar([Entry("../../../../escape-dotdot", "file", b"x"),
                                          Entry("/abs/file", "file", b"x")]),
        "escape-symlinks.tar": trimmed_tar([
            Symlink("up", "/"), File("up/dev/shm/berth-fuzz-layer/sentinel", "x"),
            Symlink("rel", "../../../.."), File("rel/escape-rel", "x"),
            Symlink("to-sentinel", SENTINEL), File("to-sentinel", "overwritten"),
            Symlink("dangling/dir", SENTINEL + "-dir"), File("dangling/dir/x", "x"),
            Symlink("loop", "loop"), File("loop/x", "x")]),
        "escape-hardlink.tar": trimmed_tar([Hardlink("hard-out", "../lower/etc/passwd")]),
        "escape-hardlink-abs.tar": trimmed_tar([Symlink("s", "/dev/shm/berth-fuzz-layer"),
                                                Hardlink("hard-abs", "s/sentinel")]),
        "replace.tar": trimmed_tar([Dir("x"), File("x/a", "a"), File("x", "file over dir"),
                                    Dir("x"), Symlink("x", "y"), Dir("y"), Dir("x/sub")]),
        "devices.tar": trimmed_tar([CharDev("dev/null", 1, 3), Entry("dev/sda", "blockdev", devmajor=8),
                                    Fifo("dev/fifo")]),
        "empty.tar": bytes(1024),
        "empty": b"",
    }
    seeds["basic.tar.gz"] = compress(seeds["basic.tar"], "gzip")
    seeds["whiteouts.tar.gz"] = compress(seeds["whiteouts.tar"], "gzip")
    if shutil.which("zstd"):
        seeds["basic.tar.zst"] = compress(seeds["basic.tar"], "zstd")
    seeds["truncated.tar"] = seeds["basic.tar"][:700]
    seeds.update(sparse_seeds())
    return seeds


def without_pid(tar: bytes) -> bytes:
    """GNU tar names a PAX sparse member ./GNUSparseFile.<pid>/NAME: a fixed name keeps the seed
    byte-for-byte reproducible (the header checksum is recomputed)."""
    out = bytearray(tar)
    for match in re.finditer(rb"\./GNUSparseFile\.[0-9]+/", tar):
        start = match.start() - match.start() % 512
        name = bytes(out[start:start + 100]).rstrip(b"\0")
        name = re.sub(rb"GNUSparseFile\.[0-9]+", b"GNUSparseFile.0", name)
        out[start:start + 100] = name.ljust(100, b"\0")
        out[start + 148:start + 156] = b" " * 8
        out[start + 148:start + 156] = b"%06o\0 " % sum(out[start:start + 512])
    return bytes(out)


def sparse_seeds() -> dict:
    """Sparse files in GNU tar's old format (type 'S') and PAX 1.0 form, when GNU tar is there."""
    if not shutil.which("tar"):
        return {}
    seeds = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "sparse")
        with open(path, "wb") as f:
            f.truncate(1 << 20)
            f.seek(300 << 10)
            f.write(b"data in the middle")
        os.utime(path, (0, 0))
        # One 512-byte block per record: no padding to GNU tar's 10 KiB records.
        common = ["tar", "--sparse", "--mtime=@0", "--owner=0", "--group=0", "--numeric-owner",
                  "--blocking-factor=1", "-C", tmp, "-cf", "-"]
        for name, form in (("sparse-gnu.tar", ["--format=gnu"]),
                           ("sparse-pax.tar", ["--format=pax", "--sparse-version=1.0",
                                               "--pax-option=delete=atime,delete=ctime"])):
            out = subprocess.run(common[:1] + form + common[1:] + ["sparse"],
                                 stdout=subprocess.PIPE, check=True).stdout
            seeds[name] = without_pid(out)
    return seeds


# ---------------------------------------------------------------------------------------------
# manifest: indexes, manifests, configs

def js(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def manifest_seeds() -> dict:
    layer = {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": SHA_B, "size": 1234}
    return {
        "oci-index.json": js({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                              "manifests": [
                                  {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": SHA_A,
                                   "size": 500, "platform": {"os": "linux", "architecture": "amd64"}},
                                  {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": SHA_B,
                                   "size": 501, "platform": {"os": "linux", "architecture": "arm",
                                                             "variant": "v6"},
                                   "annotations": {"org.opencontainers.image.ref.name": "latest"}}]}),
        "docker-list.json": js({"schemaVersion": 2,
                                "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
                                "manifests": [{"mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                                               "digest": SHA_A, "size": 7,
                                               "platform": {"os": "linux", "architecture": "arm64",
                                                            "variant": "v8"}}]}),
        "oci-manifest.json": js({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                                 "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                            "digest": SHA_A, "size": 300},
                                 "layers": [layer, dict(layer, mediaType="application/vnd.oci.image.layer.v1.tar")]}),
        "docker-manifest.json": js({"schemaVersion": 2,
                                    "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                                    "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                                               "digest": SHA_C, "size": 1},
                                    "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                                                "digest": SHA_A, "size": 9223372036854775807}]}),
        "config.json": js({"architecture": "amd64", "os": "linux",
                           "config": {"User": "1000:1000", "Env": ["PATH=/bin", "A=b"],
                                      "Entrypoint": ["/bin/sh", "-c"], "Cmd": ["echo hi"], "WorkingDir": "/w",
                                      "ExposedPorts": {"80/tcp": {}}, "Volumes": {"/data": {}},
                                      "Labels": {"a": "b"}, "StopSignal": "SIGTERM"},
                           "rootfs": {"type": "layers", "diff_ids": [SHA_A, SHA_B]}}),
        "schema1.json": js({"schemaVersion": 1, "fsLayers": [{"blobSum": SHA_A}]}),
        "bad-size.json": js({"manifests": [{"digest": SHA_A, "size": -1}, {"digest": "sha256:XYZ", "size": 1}]}),
        "nested.json": b'{"config":' * 20 + b"{}" + b"}" * 20,
    }


# ---------------------------------------------------------------------------------------------
# reference

def reference_seeds() -> dict:
    refs = ["busybox", "docker.io/library/busybox:1.36", "registry.local:5000/team/app@" + SHA_A,
            "[::1]:5000/x/y:tag@" + SHA_C, "localhost/a_b__c-d.e:v1.0-rc", "index.docker.io/user/repo",
            "Busybox", "a" * 130 + ":" + "t" * 129, "127.0.0.1:5000/x@sha512:" + "f" * 128, "host:port/x"]
    return {f"ref-{i}": r.encode() for i, r in enumerate(refs)}


# ---------------------------------------------------------------------------------------------
# seccomp

def seccomp_seeds() -> dict:
    oci = {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
           "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"], "flags": ["SECCOMP_FILTER_FLAG_LOG"],
           "syscalls": [{"names": ["read", "write", "exit_group"], "action": "SCMP_ACT_ALLOW"},
                        {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
                         "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"},
                                  {"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]},
                        {"names": ["clone"], "action": "SCMP_ACT_ALLOW",
                         "args": [{"index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]},
                        {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}]}
    docker = {"defaultAction": "SCMP_ACT_ERRNO",
              "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
                          {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}],
              "syscalls": [{"names": ["accept", "bind"], "action": "SCMP_ACT_ALLOW", "comment": "net"},
                           {"name": "ptrace", "action": "SCMP_ACT_ALLOW",
                            "includes": {"minKernel": "4.8"}},
                           {"names": ["mount"], "action": "SCMP_ACT_ALLOW",
                            "includes": {"caps": ["CAP_SYS_ADMIN"]}, "excludes": {"arches": ["s390x"]}},
                           {"names": ["reboot"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_BOOT"]}}]}
    with open(os.path.join(ROOT, "security", "profiles", "seccomp", "berth-default.json"), "rb") as f:
        shipped = f.read()
    return {
        "oci.json": js(oci),
        "docker.json": js(docker),
        "berth-default.json": shipped,
        "notify.json": js({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/run/agent.sock",
                           "syscalls": [{"names": ["open"], "action": "SCMP_ACT_NOTIFY"}]}),
        "bad-op.json": js({"defaultAction": "SCMP_ACT_KILL_PROCESS",
                           "syscalls": [{"names": ["x"], "action": "SCMP_ACT_TRACE",
                                         "args": [{"index": 6, "value": 18446744073709551615, "op": "SCMP_CMP_XX"}]}]}),
    }


# ---------------------------------------------------------------------------------------------
# spdy: wire frames with zlib-compressed header blocks

def spdy_dictionary() -> bytes:
    with open(os.path.join(ROOT, "cri", "streaming", "spdy_header_block.cc")) as f:
        source = f.read()
    words_text = re.search(r"kDictionaryWords = \{(.*?)\};", source, re.S).group(1)
    tail_text = re.search(r"kDictionaryTail =(.*?);", source, re.S).group(1)
    words = re.findall(r'"((?:[^"\\]|\\.)*)"', words_text)
    tail = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', tail_text))
    out = b""
    for word in words:
        out += struct.pack(">I", len(word)) + word.encode()
    return out + tail.encode()


def header_block(headers) -> bytes:
    out = struct.pack(">I", len(headers))
    for name, value in headers:
        out += struct.pack(">I", len(name)) + name.encode() + struct.pack(">I", len(value)) + value.encode()
    return out


def control(frame_type: int, flags: int, payload: bytes) -> bytes:
    return struct.pack(">HHI", 0x8000 | 3, frame_type, (flags << 24) | len(payload)) + payload


def data_frame(stream_id: int, flags: int, payload: bytes) -> bytes:
    return struct.pack(">II", stream_id, (flags << 24) | len(payload)) + payload


def spdy_seeds() -> dict:
    dictionary = spdy_dictionary()
    zs = zlib.compressobj(9, zlib.DEFLATED, 15, 8, zlib.Z_DEFAULT_STRATEGY, dictionary)

    def compressed(headers) -> bytes:
        return zs.compress(header_block(headers)) + zs.flush(zlib.Z_SYNC_FLUSH)

    def syn_stream(stream_id: int, headers, flags=0) -> bytes:
        return control(1, flags, struct.pack(">IIBB", stream_id, 0, 0, 0) + compressed(headers))

    exec_session = (syn_stream(1, [("streamtype", "error")]) +
                    syn_stream(3, [("streamtype", "stdin")]) +
                    syn_stream(5, [("streamtype", "stdout")]) +
                    syn_stream(7, [("streamtype", "resize")]) +
                    data_frame(3, 0, b"echo hi\n") + data_frame(7, 0, b'{"Width":80,"Height":24}') +
                    data_frame(3, 1, b""))
    zs = zlib.compressobj(9, zlib.DEFLATED, 15, 8, zlib.Z_DEFAULT_STRATEGY, dictionary)
    forward = (syn_stream(1, [("streamtype", "error"), ("port", "8080"), ("requestid", "0")]) +
               syn_stream(3, [("streamtype", "data"), ("port", "8080"), ("requestid", "0")]) +
               data_frame(3, 0, b"GET / HTTP/1.1\r\n\r\n"))
    zs = zlib.compressobj(9, zlib.DEFLATED, 15, 8, zlib.Z_DEFAULT_STRATEGY, dictionary)
    reply = control(2, 0, struct.pack(">I", 1) + compressed([(":status", "200"), ("multi", "a\0b")]))
    headers = control(8, 0, struct.pack(">I", 1) + compressed([("x", "y")]))
    controls = (control(4, 0, struct.pack(">IIIII", 2, 4, 100, 7, 65536)) + control(6, 0, struct.pack(">I", 1)) +
                control(9, 0, struct.pack(">II", 1, 65536)) + control(3, 0, struct.pack(">II", 1, 5)) +
                control(7, 0, struct.pack(">II", 3, 0)) + control(0x77, 0, b"unknown"))
    raw = control(1, 0, struct.pack(">IIBB", 1, 0, 0, 0) + header_block([("streamtype", "error")]))
    return {"exec": exec_session, "port-forward": forward, "reply-headers": reply + headers,
            "controls": controls, "uncompressed-block": raw}


# ---------------------------------------------------------------------------------------------
# websocket: client frames (masked)

def ws_frame(opcode: int, payload: bytes, fin=True, mask=b"\x11\x22\x33\x44", length_form=None) -> bytes:
    first = (0x80 if fin else 0) | opcode
    n = len(payload)
    mask_bit = 0x80 if mask is not None else 0
    if length_form == 64 or n > 0xffff:
        head = struct.pack(">BBQ", first, mask_bit | 127, n)
    elif length_form == 16 or n >= 126:
        head = struct.pack(">BBH", first, mask_bit | 126, n)
    else:
        head = struct.pack(">BB", first, mask_bit | n)
    if mask is None:
        return head + payload
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def websocket_seeds() -> dict:
    return {
        "exec": (ws_frame(2, b"\x00echo hi\n") + ws_frame(2, b'\x04{"Width":80,"Height":24}') +
                 ws_frame(2, b'\x04{"Width":100,') + ws_frame(2, b'\x04"Height":50}') + ws_frame(2, b"\xff\x00")),
        "fragmented": (ws_frame(1, b"\x00hel", fin=False) + ws_frame(9, b"ping") + ws_frame(0, b"lo", fin=False) +
                       ws_frame(0, b"!", fin=True) + ws_frame(10, b"")),
        "lengths": ws_frame(2, b"\x00" + b"x" * 200, length_form=16) + ws_frame(2, b"\x00y", length_form=64),
        "close": ws_frame(2, b"\x00data") + ws_frame(8, b"\x03\xe8bye"),
        "unmasked": ws_frame(2, b"\x00server frame", mask=None),
    }


# ---------------------------------------------------------------------------------------------
# http_upgrade: the client's request

def http_seeds() -> dict:
    spdy = ("POST /exec/0123456789abcdef HTTP/1.1\r\nHost: 127.0.0.1:10010\r\nConnection: Upgrade\r\n"
            "Upgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n"
            "X-Stream-Protocol-Version: v3.channel.k8s.io, v2.channel.k8s.io\r\n"
            "X-Stream-Protocol-Version: channel.k8s.io\r\nContent-Length: 0\r\n\r\n")
    websocket = ("GET /portforward/tok?port=80&port=8080,443 HTTP/1.1\r\nHost: node\r\n"
                 "Connection: keep-alive, Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
                 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                 "Sec-WebSocket-Protocol: v5.channel.k8s.io, v4.channel.k8s.io, SPDY/3.1+portforward.k8s.io\r\n\r\n")
    return {
        "spdy": spdy.encode(),
        "websocket": websocket.encode(),
        "leftover": spdy.encode() + b"\x80\x03\x00\x01\x00\x00\x00\x0a",
        "body": b"POST /attach/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        "percent": b"GET /portforward/t?po%72t=%38%30&port=&x=1 HTTP/1.0\r\nUpgrade: websocket\r\n\r\n",
    }


# ---------------------------------------------------------------------------------------------
# cni_result: plugin output, cache entries, network configs

def cni_seeds() -> dict:
    result = {"cniVersion": "1.0.0",
              "interfaces": [{"name": "cni0", "mac": "00:11:22:33:44:55"},
                             {"name": "eth0", "mac": "00:11:22:33:44:66", "sandbox": "/var/run/netns/x"}],
              "ips": [{"address": "10.88.0.5/16", "gateway": "10.88.0.1", "interface": 1},
                      {"address": "fd00::5/64", "interface": 1}, {"address": "10.0.0.1/8", "interface": 0}],
              "routes": [{"dst": "0.0.0.0/0"}], "dns": {"nameservers": ["10.0.0.10"]}}
    old = {"cniVersion": "0.4.0", "ips": [{"version": "4", "address": "192.168.1.2/24"},
                                          {"version": "6", "address": "::1/128"}]}
    conflist = {"cniVersion": "1.0.0", "name": "net", "plugins": [
        {"type": "bridge", "bridge": "cni0", "ipam": {"type": "host-local", "subnet": "10.88.0.0/16"}},
        {"type": "portmap", "capabilities": {"portMappings": True}}]}
    cache = {"kind": "berthCniCacheV1", "containerId": "abc", "ifName": "eth0", "networkName": "net",
             "configSource": "/etc/cni/net.d/10-net.conflist", "cniArgs": "IgnoreUnknown=1",
             "capabilityArgs": {"portMappings": []}, "config": conflist, "result": result}
    return {
        "result-1.0.json": js(result),
        "result-0.4.json": js(old),
        "error.json": js({"code": 11, "msg": "try again", "details": "busy"}),
        "conflist.json": js(conflist),
        "conf.json": js({"cniVersion": "0.3.1", "name": "single", "type": "bridge"}),
        "cache.json": js(cache),
        "bad-ips.json": js({"ips": [{"address": "300.1.1.1/8"}, {"address": 5}, "x"]}),
    }


# ---------------------------------------------------------------------------------------------
# config: berth.yaml

def config_seeds() -> dict:
    with open(os.path.join(ROOT, "config", "berth.example.yaml"), "rb") as f:
        example = f.read()
    return {
        "example.yaml": example,
        "cni.yaml": b"network:\n  mode: cni\n  cni_bin_dirs: [/opt/cni/bin]\nmax_concurrent_downloads: 8\n",
        "registries.yaml": (b"registries:\n  mirrors:\n    docker.io: [\"https://mirror:5000\", \"http://m2\"]\n"
                            b"  insecure: [\"localhost:5000\"]\n  auths:\n    reg:\n      username: u\n"
                            b"      password: p\n"),
        "streaming.yaml": b"streaming: {address: '::', port: 10010, token_ttl_seconds: 3600, tls_cert_file: a}\n",
        "bad-types.yaml": b"root: [a, b]\nstreaming:\n  port: 99999999999999999999\nlog_level: {x: 1}\n",
        "anchors.yaml": b"a: &x {mode: cni}\nnetwork: *x\n? [complex, key]\n: value\n",
        "empty.yaml": b"",
    }


def passwd_seeds() -> dict:
    passwd = (b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n"
              b"app:x:1000:1000::/home/app:/bin/sh\n")
    group = b"root:x:0:\nwheel:x:10:app,root\napp:x:1000:\nnogroup:x:65534:\n"
    return {
        "debian": passwd + b"\0" + group,
        "passwd-only": passwd,
        "overflow": b"big:x:4294967296:0::/:/bin/sh\nminus:x:-1:-1::/:\n\0huge:x:99999999999:big\n",
        "edge-ids": b"max:x:4294967294:4294967294::/:\nnone:x:4294967295:0::/:\n\0g:x:4294967295:max\n",
        "short-records": b"a\nb:x\nc:x:1\n:x:2:2::/:\n\0:x:3:\nd::\n",
        "duplicates": b"u:x:5:5::/:\nu:x:6:6::/:\nv:x:5:7::/:\n\0g:x:5:u,u,v\ng:x:6:\n",
    }


TARGETS = {
    "layer": layer_seeds, "manifest": manifest_seeds, "reference": reference_seeds,
    "seccomp": seccomp_seeds, "spdy": spdy_seeds, "spdy_session": spdy_seeds, "websocket": websocket_seeds,
    "http_upgrade": http_seeds, "cni_result": cni_seeds, "config": config_seeds,
    "passwd": passwd_seeds,
}


def main(argv) -> int:
    outdir = argv[1] if len(argv) > 1 else os.path.join(HERE, "corpus")
    for target, make in TARGETS.items():
        directory = os.path.join(outdir, target)
        if os.path.isdir(directory):
            shutil.rmtree(directory)
        os.makedirs(directory)
        for name, data in make().items():
            with open(os.path.join(directory, name), "wb") as f:
                f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
