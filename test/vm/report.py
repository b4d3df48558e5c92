#!/usr/bin/env python3
"""The VM lane's result bookkeeping (standard library only; runs in the guest).

  report.py known KNOWN_FILE BINARY            gtest names listed for BINARY, one a line
  report.py check-known KNOWN_FILE BINARY LIST  entries for BINARY matching no test in LIST (the
                                               output of --gtest_list_tests): one a line
  report.py gtest XML BINARY KNOWN_FILE RESULTS  one line per test case of XML appended to RESULTS
  report.py gtest-log LOG BINARY KNOWN_FILE RESULTS  the same from gtest's text output, for a binary
                                               killed before it wrote its XML (the test running
                                               then fails)
  report.py left-out KNOWN_FILE BINARY LIST RESULTS  a KNOWN line per test of LIST that the known
                                               failures of BINARY leave out of the run
  report.py summary RESULTS                     counts of RESULTS; exit status 0 when nothing failed

known-failures.txt holds lines "BINARY TEST_NAME  # why" (TEST_NAME as gtest prints it,
Suite.Name, wildcards allowed as in --gtest_filter); BINARY "smoke" names the berthctl smoke
steps. A RESULTS line is "STATUS<TAB>BINARY<TAB>TEST<TAB>SECONDS<TAB>DETAIL", STATUS one of PASS,
FAIL, SKIP, KNOWN (a known failure that was not run or still fails) and FIXED (a known failure
that passed: time to take it off the list).
"""

import fnmatch
import sys
import xml.etree.ElementTree as ET


def read_known(path, binary):
    """[(pattern, reason)] of `binary` in the known-failures file."""
    entries = []
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line, _, reason = raw.partition("#")
            fields = line.split()
            if len(fields) != 2 or fields[0] != binary:
                continue
            entries.append((fields[1], reason.strip()))
    return entries


def listed_tests(path):
    """Full names from `--gtest_list_tests` output (suite lines end with '.', tests indented)."""
    names, suite = [], ""
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            text = line.split("#")[0].rstrip()
            if not text:
                continue
            if not text.startswith(" "):
                suite = text.strip()
            else:
                names.append(suite + text.strip())
    return names


def one_line(text, limit=500):
    """gtest's message ("file:line\nexpression\n  Actual: ...\nstreamed message") as one line."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return " | ".join(lines).replace("\t", " ")[:limit]


def gtest_cases(xml_path):
    """[(name, status, seconds, detail)] of a gtest XML report."""
    cases = []
    for case in ET.parse(xml_path).getroot().iter("testcase"):
        name = f"{case.get('classname')}.{case.get('name')}"
        seconds = case.get("time", "0")
        failures = case.findall("failure")
        skipped = case.find("skipped")
        if failures:
            f = failures[0]
            cases.append((name, "FAIL", seconds, one_line(f.get("message") or f.text)))
        elif skipped is not None or case.get("result") == "skipped":
            reason = one_line(skipped.get("message") if skipped is not None else "")
            cases.append((name, "SKIP", seconds, reason))
        elif case.get("status") == "notrun":
            continue
        else:
            cases.append((name, "PASS", seconds, ""))
    return cases


def log_cases(log_path):
    """[(name, status, seconds, detail)] from gtest's console output."""
    cases, current, message = [], None, []
    with open(log_path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("[==========]") and "ran." in line:
                break  # the summary after it repeats the failures
            if line.startswith("[ RUN      ] "):
                current, message = line[13:].strip(), []
                continue
            for tag, status in (("[       OK ] ", "PASS"), ("[  FAILED  ] ", "FAIL"),
                                ("[  SKIPPED ] ", "SKIP")):
                if line.startswith(tag) and current and line[13:].startswith(current):
                    millis = line.rsplit("(", 1)[-1].split(" ms)")[0]
                    seconds = str(int(millis) / 1000) if millis.isdigit() else "0"
                    # The first failure: "file:line: Failure" and what follows it.
                    start = next((i for i, m in enumerate(message) if m.endswith("Failure")
                                  or m.endswith("Skipped")), 0)
                    detail = one_line("\n".join(message[start:start + 6])) if status != "PASS" else ""
                    cases.append((current, status, seconds, detail))
                    current = None
                    break
            else:
                if current and not line.startswith("---- berthd log"):
                    message.append(line)
    if current:
        cases.append((current, "FAIL", "0", "still running when the binary was killed | "
                      + one_line("\n".join(message[-3:]))))
    return cases


def write_cases(cases, binary, known_path, results):
    known = read_known(known_path, binary)
    with open(results, "a", encoding="utf-8") as out:
        for name, status, seconds, detail in cases:
            reasons = [r for p, r in known if fnmatch.fnmatchcase(name, p)]
            if reasons:
                # Only run when the lane runs the known failures on purpose (--run-known).
                status, detail = ("FIXED", "passes now: take it off test/vm/known-failures.txt") \
                    if status == "PASS" else ("KNOWN", f"{reasons[0]} | {detail}")
            out.write(f"{status}\t{binary}\t{name}\t{seconds}\t{detail}\n")


def main(argv):
    command = argv[1] if len(argv) > 1 else ""
    if command == "known" and len(argv) == 4:
        for pattern, _ in read_known(argv[2], argv[3]):
            print(pattern)
        return 0
    if command == "check-known" and len(argv) == 5:
        names = listed_tests(argv[4])
        for pattern, _ in read_known(argv[2], argv[3]):
            if not fnmatch.filter(names, pattern):
                print(pattern)
        return 0
    if command == "left-out" and len(argv) == 6:
        known_path, binary, list_path, results = argv[2:6]
        with open(results, "a", encoding="utf-8") as out:
            for name in listed_tests(list_path):
                reasons = [r for p, r in read_known(known_path, binary)
                           if fnmatch.fnmatchcase(name, p)]
                if reasons:
                    out.write(f"KNOWN\t{binary}\t{name}\t0\tnot run: {reasons[0]}\n")
        return 0
    if command in ("gtest", "gtest-log") and len(argv) == 6:
        path, binary, known_path, results = argv[2:6]
        cases = gtest_cases(path) if command == "gtest" else log_cases(path)
        write_cases(cases, binary, known_path, results)
        return 0
    if command == "summary" and len(argv) == 3:
        counts = {k: 0 for k in ("PASS", "FAIL", "SKIP", "KNOWN", "FIXED")}
        with open(argv[2], encoding="utf-8") as f:
            for line in f:
                status = line.split("\t", 1)[0]
                if status in counts:
                    counts[status] += 1
        print(f"{counts['PASS']} passed, {counts['FAIL']} failed, {counts['SKIP']} skipped, "
              f"{counts['KNOWN']} known failures, {counts['FIXED']} known failures fixed")
        return 1 if counts["FAIL"] else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
