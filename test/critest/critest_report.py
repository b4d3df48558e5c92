#!/usr/bin/env python3
"""Summarises a critest run from its ginkgo JSON report (--ginkgo.json-report).

    python3 critest_report.py REPORT.json [--berthd-log LOG] [--out SUMMARY.txt]

Prints (and writes to --out) `critest: N passed, N failed, N skipped`, the failed specs with the
first lines of their failure messages, and the RPCs berthd answered with UNIMPLEMENTED according
to its debug log (the whole log, probes included). Specs that --ginkgo.skip filtered out and specs
that skipped themselves (e.g. AppArmor on a host without it) both count as skipped; pending specs
too. A failed suite node (BeforeSuite, AfterSuite, ...) counts as a failure.

Exit status: 0 when nothing failed, 1 when something failed, 2 when the report is missing or
unreadable (critest did not get as far as writing it).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter

sys.dont_write_bytecode = True

FAILED = {"failed", "panicked", "timedout", "aborted", "interrupted"}
SKIPPED = {"skipped", "pending"}
UNIMPLEMENTED = re.compile(r"rpc=(\S+) code=12 ")


def spec_name(spec: dict) -> str:
    texts = [t for t in spec.get("ContainerHierarchyTexts") or [] if t]
    leaf = spec.get("LeafNodeText") or ""
    if spec.get("LeafNodeType") != "It":
        leaf = f"[{spec.get('LeafNodeType')}] {leaf}".strip()
    return " ".join(texts + [leaf]).strip()


def summarise(report_path: str, berthd_log: str | None) -> tuple[list[str], int]:
    with open(report_path) as f:
        reports = json.load(f)
    passed = failed = skipped = 0
    failures: list[str] = []
    reasons: list[str] = []
    for report in reports:
        reasons += report.get("SpecialSuiteFailureReasons") or []
        for spec in report.get("SpecReports") or []:
            state = spec.get("State")
            is_it = spec.get("LeafNodeType") == "It"
            if state in FAILED:
                failed += 1
                failure = spec.get("Failure") or {}
                message = (failure.get("Message") or "").strip().splitlines()
                location = failure.get("Location") or {}
                where = (f" ({location.get('FileName', '').rsplit('/', 1)[-1]}:"
                         f"{location.get('LineNumber')})" if location.get("FileName") else "")
                failures.append(f"  - {spec_name(spec)} [{state}]{where}")
                failures += [f"      {line}" for line in message[:4]]
            elif not is_it:
                continue  # suite nodes that passed are not specs
            elif state == "passed":
                passed += 1
            elif state in SKIPPED:
                skipped += 1
    lines = [f"critest: {passed} passed, {failed} failed, {skipped} skipped"]
    if reasons:
        lines.append("suite: " + "; ".join(reasons))
    if failures:
        lines.append("failures:")
        lines += failures
    if berthd_log:
        try:
            with open(berthd_log, errors="replace") as f:
                counts = Counter(m.group(1) for line in f for m in [UNIMPLEMENTED.search(line)] if m)
        except OSError:
            counts = Counter()
        if counts:
            lines.append("RPCs berthd answered UNIMPLEMENTED (its whole log, probes included):")
            lines += [f"  {rpc} x{n}" for rpc, n in sorted(counts.items())]
    return lines, failed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("report")
    ap.add_argument("--berthd-log")
    ap.add_argument("--out")
    args = ap.parse_args()
    try:
        lines, failed = summarise(args.report, args.berthd_log)
    except (OSError, ValueError, AttributeError, TypeError) as e:
        lines, failed = [f"critest: no usable report at {args.report} ({type(e).__name__}: {e})"], -1
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    if args.out:
        with open(args.out, "a") as f:
            f.write(text)
    if failed < 0:
        return 2
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
