#!/usr/bin/env python3
"""Static checks of berth's Helm chart (charts/berth) and deploy files, without helm.

    python3 test/chart/check_chart.py [--root DIR]

helm is not a Debian package, so nothing here renders a template. What is checked:

- Chart.yaml: apiVersion v2, name berth (= its directory), SemVer version, appVersion (= the
  CMake project version), description, kubeVersion.
- values.yaml: parses; every key has a comment on the line(s) before it; `config` has every key
  of config/berth.example.yaml with the same default and no other key (berthd refuses unknown
  keys); every top-level key is used by a template.
- templates: every `.Values.a.b` they name exists in values.yaml; every `include`/`template`
  names a `define`; `{{ }}` and block/end are balanced; the DaemonSet keeps what berth needs
  (host namespaces, Bidirectional mounts, berthctl status probes, checksum/config); NOTES.txt
  says how to point kubelet at the socket with the cgroupfs driver.
- deploy/kind: the cluster config sets criSocket and cgroupDriver cgroupfs; its berth.yaml uses
  only berth's config keys; the Dockerfile starts from a kindest/node v1.36 image.
- deploy/systemd/berthd.service: the settings berth relies on.
- scripts: `bash -n` on deploy/*.sh, test/critest/run-critest.sh and the berthctl completion; the
  completion offers exactly the commands and global options berthctl's sources define.
- yamllint (config: test/chart/yamllint.yaml) on Chart.yaml, values.yaml and deploy/kind/*.yaml;
  any message, warnings included, fails the check.

Prints one line per check and `N passed, M failed` (`, K skipped` when yamllint is missing) last.
Exit status: 0 all passed, 1 a check failed, 77 python3-yaml or yamllint is missing (ctest skip).
"""

from __future__ import annotations

import argparse
import configparser
import os
import re
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True

try:
    import yaml
except ImportError:  # python3-yaml (Debian) is what scripts/install-deps.sh installs
    print("check_chart: python3-yaml is missing (scripts/install-deps.sh installs it): skipped")
    print("0 passed, 0 failed, 1 skipped")
    sys.exit(77)

HERE = os.path.dirname(os.path.abspath(__file__))
SOCKET = "unix:///run/berth/berth.sock"
# semver.org's regular expression for SemVer 2.0.0.
SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$")
VALUES_REF = re.compile(r"\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)")
INCLUDE_REF = re.compile(r"\b(?:include|template)\s+\"([^\"]+)\"")
DEFINE = re.compile(r"\{\{-?\s*define\s+\"([^\"]+)\"")
BLOCK_OPEN = re.compile(r"\{\{-?\s*(?:if|range|with|define|block)\b")
BLOCK_END = re.compile(r"\{\{-?\s*end\b")
KEY_LINE = re.compile(r"^(\s*)([A-Za-z_][A-Za-z0-9_.-]*):(\s|$)")


class Checks:
    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0
        self.skipped = 0

    def ok(self, name: str, problems: list[str] | str | None = None) -> None:
        if isinstance(problems, str):
            problems = [problems]
        if problems:
            self.failed += 1
            print(f"FAIL {name}")
            for p in problems:
                print(f"     - {p}")
        else:
            self.passed += 1
            print(f"ok   {name}")

    def skip(self, name: str, why: str) -> None:
        self.skipped += 1
        print(f"SKIP {name}: {why}")


def load_yaml(path: str):
    with open(path) as f:
        return yaml.safe_load(f)


def leaves(tree, prefix: str = "") -> dict[str, object]:
    """Flattens nested mappings to dotted paths; lists, scalars and empty mappings are leaves."""
    if isinstance(tree, dict) and tree:
        out: dict[str, object] = {}
        for k, v in tree.items():
            out.update(leaves(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: tree}


def lookup(tree, path: list[str]) -> bool:
    node = tree
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def template_files(chart: str) -> list[str]:
    tdir = os.path.join(chart, "templates")
    return sorted(os.path.join(tdir, f) for f in os.listdir(tdir)
                  if f.endswith((".yaml", ".yml", ".tpl", ".txt")))


def check_chart_yaml(c: Checks, root: str, chart: str) -> None:
    meta = load_yaml(os.path.join(chart, "Chart.yaml"))
    problems = []
    if not isinstance(meta, dict):
        c.ok("Chart.yaml parses to a mapping", "it does not")
        return
    c.ok("Chart.yaml parses")
    if meta.get("apiVersion") != "v2":
        problems.append(f"apiVersion is {meta.get('apiVersion')!r}, not 'v2'")
    name = meta.get("name")
    if name != "berth" or name != os.path.basename(chart):
        problems.append(f"name is {name!r}; it must be 'berth', the chart's directory name")
    version = meta.get("version")
    if not isinstance(version, str) or not SEMVER.match(version):
        problems.append(f"version {version!r} is not SemVer 2 (a quoted or plain x.y.z string)")
    app = meta.get("appVersion")
    if not isinstance(app, str) or not app:
        problems.append(f"appVersion {app!r} must be a non-empty string (quote it)")
    for key in ("description", "kubeVersion"):
        if not isinstance(meta.get(key), str) or not meta[key].strip():
            problems.append(f"{key} is missing or empty")
    if meta.get("type", "application") != "application":
        problems.append(f"type is {meta.get('type')!r}; berth's chart is an application")
    c.ok("Chart.yaml required fields (apiVersion v2, name, SemVer version, appVersion, "
         "description, kubeVersion)", problems)

    cmake = os.path.join(root, "CMakeLists.txt")
    if os.path.exists(cmake):
        m = re.search(r"project\(\s*berth\s+VERSION\s+([0-9.]+)", open(cmake).read())
        project = m.group(1) if m else None
        c.ok(f"Chart.yaml appVersion equals the CMake project version ({project})",
             None if project == app else f"appVersion {app!r} != project version {project!r}")


def check_values_comments(c: Checks, path: str) -> None:
    """Every mapping key in values.yaml has a comment line right above it (or on its line)."""
    problems = []
    previous = ""
    for n, line in enumerate(open(path), 1):
        stripped = line.strip()
        if not stripped:
            continue
        m = KEY_LINE.match(line)
        if m and not previous.startswith("#") and "#" not in line.split(":", 1)[1]:
            problems.append(f"values.yaml:{n}: key {m.group(2)!r} has no comment")
        previous = stripped
    c.ok("values.yaml: every key is documented by a comment", problems)


def check_config_mirror(c: Checks, values: dict, example: dict) -> None:
    config = values.get("config")
    if not isinstance(config, dict):
        c.ok("values.config mirrors config/berth.example.yaml", "values.yaml has no config mapping")
        return
    want, have = leaves(example), leaves(config)
    problems = []
    for key, default in want.items():
        if key not in have:
            problems.append(f"config.{key} is missing (berth.example.yaml default {default!r})")
        elif have[key] != default:
            problems.append(f"config.{key} is {have[key]!r}; berth.example.yaml says {default!r}")
    for key in have:
        if key not in want:
            problems.append(f"config.{key} is not a berth.yaml key (berthd refuses unknown keys)")
    c.ok(f"values.config has all {len(want)} keys of config/berth.example.yaml with their "
         "defaults, and no other", problems)


def check_templates(c: Checks, chart: str, values: dict) -> None:
    files = template_files(chart)
    texts = {os.path.relpath(f, chart): open(f).read() for f in files}

    refs: dict[str, set[str]] = {}
    for rel, text in texts.items():
        for m in VALUES_REF.finditer(text):
            refs.setdefault(m.group(1).lstrip("."), set()).add(rel)
    problems = [f".Values.{path} (in {', '.join(sorted(where))}) is not in values.yaml"
                for path, where in sorted(refs.items()) if not lookup(values, path.split("."))]
    c.ok(f"templates: all {len(refs)} .Values paths they use exist in values.yaml", problems)

    used_tops = {path.split(".")[0] for path in refs}
    unused = [k for k in values if k not in used_tops]
    c.ok("values.yaml: every top-level key is used by a template",
         [f"{k} is never used" for k in unused])

    defined: set[str] = set()
    for text in texts.values():
        defined.update(DEFINE.findall(text))
    problems = []
    for rel, text in texts.items():
        for name in INCLUDE_REF.findall(text):
            if name not in defined:
                problems.append(f"{rel}: include {name!r} has no define")
    c.ok(f"templates: every include names one of the {len(defined)} defines", problems)

    problems = []
    for rel, text in texts.items():
        if text.count("{{") != text.count("}}"):
            problems.append(f"{rel}: {text.count('{{')} '{{{{' but {text.count('}}')} '}}}}'")
        opened, ended = len(BLOCK_OPEN.findall(text)), len(BLOCK_END.findall(text))
        if opened != ended:
            problems.append(f"{rel}: {opened} if/range/with/define blocks but {ended} end")
    c.ok("templates: {{ }} and block/end balanced", problems)

    ds = texts.get(os.path.join("templates", "daemonset.yaml"), "")
    needed = {
        "kind DaemonSet": "kind: DaemonSet",
        "hostPID": "hostPID: true",
        "hostNetwork": "hostNetwork: true",
        "hostIPC": "hostIPC: true",
        "privileged": "privileged: true",
        "berthd --config /etc/berth/berth.yaml": "- berthd\n            - --config\n"
                                                 "            - /etc/berth/berth.yaml",
        "checksum/config annotation": "checksum/config:",
        "readinessProbe": "readinessProbe:",
        "livenessProbe": "livenessProbe:",
        "updateStrategy from values": "type: {{ .Values.updateStrategy.type }}",
    }
    problems = [f"daemonset.yaml lacks {what} ({text!r})" for what, text in needed.items()
                if text not in ds]
    if ds.count("mountPropagation: Bidirectional") < 2:
        problems.append("daemonset.yaml: root and state need mountPropagation Bidirectional")
    if ds.count("- berthctl") != 2 or ds.count("- status") != 2:
        problems.append("daemonset.yaml: both probes must run `berthctl ... status`")
    for path in ("/var/log/pods", "/sys/fs/cgroup", "/lib/modules", "/var/lib/kubelet"):
        if path not in str(values.get("hostPaths", {}).values()):
            problems.append(f"values.hostPaths lacks {path}")
    c.ok("daemonset.yaml: host namespaces, privileged, Bidirectional root/state, berthctl "
         "status probes, checksum/config", problems)

    notes = texts.get(os.path.join("templates", "NOTES.txt"), "")
    problems = [f"NOTES.txt does not mention {w!r}" for w in
                ("--container-runtime-endpoint", "containerRuntimeEndpoint",
                 "--cgroup-driver=cgroupfs", "cgroupDriver: cgroupfs", "berth.endpoint")
                if w not in notes]
    c.ok("NOTES.txt: kubelet's runtime endpoint and the cgroupfs driver", problems)

    strategy = values.get("updateStrategy", {}).get("type")
    tolerations = values.get("tolerations")
    problems = []
    if strategy != "OnDelete":
        problems.append(f"updateStrategy.type defaults to {strategy!r}, not OnDelete")
    if tolerations != [{"operator": "Exists"}]:
        problems.append(f"tolerations default {tolerations!r} does not tolerate everything")
    if values.get("priorityClassName") != "system-node-critical":
        problems.append("priorityClassName is not system-node-critical")
    c.ok("values: OnDelete, tolerate everything, system-node-critical", problems)


def check_kind(c: Checks, root: str, example: dict) -> None:
    kdir = os.path.join(root, "deploy", "kind")
    cfg = load_yaml(os.path.join(kdir, "kind-config.yaml"))
    problems = []
    if cfg.get("kind") != "Cluster" or cfg.get("apiVersion") != "kind.x-k8s.io/v1alpha4":
        problems.append("not a kind.x-k8s.io/v1alpha4 Cluster")
    patches = {}
    for text in cfg.get("kubeadmConfigPatches", []):
        doc = yaml.safe_load(text)
        patches[doc.get("kind")] = doc
    for kind in ("InitConfiguration", "JoinConfiguration"):
        sock = (patches.get(kind) or {}).get("nodeRegistration", {}).get("criSocket")
        if sock != SOCKET:
            problems.append(f"{kind} nodeRegistration.criSocket is {sock!r}, not {SOCKET}")
    kubelet = patches.get("KubeletConfiguration") or {}
    if kubelet.get("cgroupDriver") != "cgroupfs":
        problems.append("KubeletConfiguration cgroupDriver is not cgroupfs")
    if kubelet.get("containerRuntimeEndpoint") != SOCKET:
        problems.append(f"KubeletConfiguration containerRuntimeEndpoint is not {SOCKET}")
    nodes = cfg.get("nodes") or []
    if not nodes or any(not str(n.get("image", "")).startswith("kindest/node:v1.36") for n in nodes):
        problems.append("every node should use the kindest/node:v1.36.x-berth image")
    c.ok("deploy/kind/kind-config.yaml: criSocket (init, join), cgroupfs, runtime endpoint",
         problems)

    berth_yaml = load_yaml(os.path.join(kdir, "berth.yaml"))
    allowed = leaves(example)
    unknown = [k for k in leaves(berth_yaml) if k not in allowed]
    c.ok("deploy/kind/berth.yaml uses only berth.yaml keys",
         [f"{k} is not a berth.yaml key" for k in unknown])

    crictl = load_yaml(os.path.join(kdir, "crictl.yaml"))
    c.ok("deploy/kind/crictl.yaml points at berth",
         None if crictl.get("runtime-endpoint") == SOCKET and crictl.get("image-endpoint") == SOCKET
         else "runtime-endpoint/image-endpoint are not the berth socket")

    docker = open(os.path.join(kdir, "Dockerfile")).read()
    problems = []
    m = re.search(r"^ARG KIND_NODE_IMAGE=(\S+)", docker, re.M)
    if not m or not re.match(r"kindest/node:v1\.36\.\d+@sha256:[0-9a-f]{64}$", m.group(1)):
        problems.append("ARG KIND_NODE_IMAGE is not a digest-pinned kindest/node:v1.36.x")
    for needle in ("FROM ${KIND_NODE_IMAGE}", "FROM debian:bookworm AS build",
                   "scripts/install-deps.sh", "deploy/build-berth.sh",
                   "systemctl mask containerd.service", "systemctl enable berthd.service",
                   "deploy/systemd/berthd.service"):
        if needle not in docker:
            problems.append(f"Dockerfile lacks {needle!r}")
    c.ok("deploy/kind/Dockerfile: kindest/node v1.36 base, berth built on bookworm, "
         "containerd masked, berthd enabled", problems)


def check_systemd(c: Checks, root: str) -> None:
    path = os.path.join(root, "deploy", "systemd", "berthd.service")
    parser = configparser.ConfigParser(strict=False, interpolation=None,
                                       comment_prefixes=("#", ";"), empty_lines_in_values=False)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read(path)
    want = {
        ("Service", "Type"): "simple",
        ("Service", "ExecStart"): "/usr/local/bin/berthd --config /etc/berth/berth.yaml",
        ("Service", "Restart"): "always",
        ("Service", "KillMode"): "process",
        ("Service", "Delegate"): "yes",
        ("Service", "OOMScoreAdjust"): "-999",
        ("Install", "WantedBy"): "multi-user.target",
    }
    problems = []
    for (section, key), value in want.items():
        got = parser.get(section, key, fallback=None)
        if got != value:
            problems.append(f"[{section}] {key}={got!r}, want {value!r}")
    for section, key in (("Service", "RestartSec"), ("Service", "LimitNOFILE")):
        if parser.get(section, key, fallback=None) is None:
            problems.append(f"[{section}] {key} is not set")
    if "network-online.target" not in parser.get("Unit", "After", fallback=""):
        problems.append("[Unit] After= lacks network-online.target")
    c.ok("deploy/systemd/berthd.service: Type=simple, ExecStart, Restart=always, "
         "KillMode=process, Delegate=yes, OOMScoreAdjust, After=network-online.target", problems)


def check_shell(c: Checks, root: str) -> None:
    scripts = [os.path.join(root, p) for p in (
        "deploy/build-berth.sh", "deploy/collect-libs.sh", "test/critest/run-critest.sh",
        "scripts/completion/berthctl.bash")]
    problems = []
    for script in scripts:
        run = subprocess.run(["bash", "-n", script], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
        if run.returncode != 0:
            problems.append(f"{os.path.relpath(script, root)}: {run.stdout.strip()}")
    c.ok(f"bash -n on {len(scripts)} scripts (deploy/, test/critest/, the completion)", problems)

    # The completion offers exactly berthctl's commands and global options.
    ctl = os.path.join(root, "cmd", "berthctl")
    sources = "".join(open(os.path.join(ctl, f)).read() for f in sorted(os.listdir(ctl))
                      if f.endswith(".cc"))
    commands = set(re.findall(r'add_subcommand\(\s*"([A-Za-z0-9_-]+)"', sources))
    commands |= set(re.findall(r'->alias\(\s*"([A-Za-z0-9_-]+)"\)', sources))
    main_cc = open(os.path.join(ctl, "main.cc")).read()
    flags = {f for spec in re.findall(r'app\.add_option\(\s*"([^"]+)"', main_cc)
             for f in spec.split(",")}
    flags = {f if f.startswith("-") else ("--" + f if len(f) > 1 else "-" + f) for f in flags}
    completion = open(os.path.join(root, "scripts", "completion", "berthctl.bash")).read()
    m = re.search(r'local commands="([^"]*)"', completion)
    offered = set(m.group(1).split()) if m else set()
    g = re.search(r'local globals="([^"]*)"', completion)
    offered_flags = set(g.group(1).split()) if g else set()
    problems = [f"berthctl has command {x!r}; the completion does not offer it"
                for x in sorted(commands - offered)]
    problems += [f"the completion offers {x!r}; berthctl has no such command"
                 for x in sorted(offered - commands)]
    problems += [f"berthctl has global option {x!r}; the completion does not offer it"
                 for x in sorted(flags - offered_flags)]
    c.ok(f"scripts/completion/berthctl.bash offers berthctl's {len(commands)} commands and "
         f"{len(flags)} global options", problems)


def check_yamllint(c: Checks, root: str, chart: str) -> None:
    files = [os.path.join(chart, "Chart.yaml"), os.path.join(chart, "values.yaml")]
    kdir = os.path.join(root, "deploy", "kind")
    files += sorted(os.path.join(kdir, f) for f in os.listdir(kdir) if f.endswith(".yaml"))
    yamllint = shutil.which("yamllint")
    if not yamllint:
        c.skip("yamllint", "yamllint is not installed (Debian package yamllint; "
                           "scripts/install-deps.sh installs it)")
        return
    config = os.path.join(HERE, "yamllint.yaml")
    run = subprocess.run([yamllint, "-f", "parsable", "-c", config] + files,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = [ln for ln in run.stdout.splitlines() if ln.strip()]
    c.ok(f"yamllint ({os.path.relpath(config, root)}) on {len(files)} files: "
         + ", ".join(os.path.relpath(f, root) for f in files),
         [os.path.relpath(ln, root) if ln.startswith(root) else ln for ln in lines]
         if run.returncode != 0 or lines else None)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", default=os.path.dirname(os.path.dirname(HERE)),
                    help="berth source tree (default: the one this script is in)")
    args = ap.parse_args()
    root = os.path.abspath(args.root)
    chart = os.path.join(root, "charts", "berth")
    c = Checks()

    def guarded(name, fn, *a):
        try:
            fn(c, *a)
        except (OSError, yaml.YAMLError, AttributeError, TypeError, configparser.Error) as e:
            c.ok(name, f"{type(e).__name__}: {e}")

    guarded("Chart.yaml", check_chart_yaml, root, chart)
    try:
        values = load_yaml(os.path.join(chart, "values.yaml"))
        example = load_yaml(os.path.join(root, "config", "berth.example.yaml"))
    except (OSError, yaml.YAMLError) as e:
        c.ok("values.yaml and config/berth.example.yaml parse", f"{type(e).__name__}: {e}")
        values = example = None
    if isinstance(values, dict) and isinstance(example, dict):
        c.ok("values.yaml and config/berth.example.yaml parse")
        guarded("values.yaml comments", check_values_comments, os.path.join(chart, "values.yaml"))
        guarded("values.config", check_config_mirror, values, example)
        guarded("templates", check_templates, chart, values)
        guarded("deploy/kind", check_kind, root, example)
    elif values is not None:
        c.ok("values.yaml and config/berth.example.yaml are mappings", "they are not")
    guarded("deploy/systemd", check_systemd, root)
    guarded("scripts", check_shell, root)
    guarded("yamllint", check_yamllint, root, chart)

    line = f"{c.passed} passed, {c.failed} failed"
    print(line + (f", {c.skipped} skipped" if c.skipped else ""))
    if c.failed:
        return 1
    return 77 if c.skipped else 0


if __name__ == "__main__":
    sys.exit(main())
