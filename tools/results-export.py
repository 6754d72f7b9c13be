#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# Turn one run of tools/run-tests.sh into the files CI dashboards read:
#
#   results.json   the shape of IGT runner's results.json: "tests" maps
#                  "igt@<binary>@<subtest>" (kunit@<suite>@<case>,
#                  gsvm@selfcheck@<knob>-<subtest>, gsvm@<check> for the
#                  rest) to {"result", "out", "err", "dmesg", "time"}
#   junit.xml      JUnit XML, one <testsuite> per binary or suite
#
# Input, in DIR: results.tsv, written by run-tests.sh (one line per result:
# PASS|FAIL|SKIP, name, log file, start and end time in seconds, the IGT
# subtest the result is about, if any, and the number of the run of a test
# binary or KUnit module it came from), the logs it names, and dmesg.txt, the
# guest kernel log at the end of the run (each run's slice lies between
# run-tests.sh's "gsvm-run-tests: start run=N ..." and "end run=N" marks). Our test binaries write stdout
# and stderr into one log, so "out" holds both and "err" is empty.
#
# Usage: tools/results-export.py DIR
#        tools/results-export.py --selftest
# Only the Python standard library is used.

import json
import os
import re
import sys
import tempfile
import xml.etree.ElementTree as ET

RESULT = {"PASS": "pass", "FAIL": "fail", "SKIP": "skip"}


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def key_of(name):
    """Map a run-tests.sh test name (and its detail) to an IGT-style key."""
    name = name.split(" (", 1)[0]
    parts = name.split("/")
    if parts[0] in ("igt", "kunit") and len(parts) >= 2:
        return parts[0] + "@" + "@".join(parts[1:3])
    m = re.match(r"^selfcheck-(.*)$", name)
    if m:
        return "gsvm@selfcheck@" + m.group(1)
    return "gsvm@" + name.replace("/", "@")


def subtest_output(log, subtest):
    """The lines of one subtest in an IGT-style log, and its own time."""
    out, inside, secs = [], False, None
    for line in log.splitlines():
        if line == "Starting subtest: " + subtest:
            inside = True
        if inside:
            out.append(line)
            m = re.match(r"^Subtest %s: [A-Z]+ \(([0-9.]+)s\)" % re.escape(subtest), line)
            if m:
                secs = float(m.group(1))
                break
            if line.startswith("Subtest %s: " % subtest):
                break
    return ("\n".join(out) + "\n") if out else "", secs


def dmesg_slices(dmesg):
    """Kernel log lines between the start and end marks of each run."""
    slices, run, lines = {}, None, []
    for line in dmesg.splitlines():
        m = re.search(r"gsvm-run-tests: (start|end) run=([0-9]+)", line)
        if m:
            if run is not None:
                slices[run] = "".join(l + "\n" for l in lines)
            run, lines = (m.group(2), []) if m.group(1) == "start" else (None, [])
        elif run is not None:
            lines.append(line)
    if run is not None:
        slices[run] = "".join(l + "\n" for l in lines)
    return slices


def export(d):
    rows = []
    for line in read(os.path.join(d, "results.tsv")).splitlines():
        f = line.split("\t")
        if len(f) < 5 or f[0] not in RESULT:
            continue
        rows.append((f + ["", ""])[:7])
    dm = dmesg_slices(read(os.path.join(d, "dmesg.txt")))
    logs = {}
    tests = {}
    for res, name, log, t0, t1, sub, run in rows:
        key = key_of(name)
        text = logs.setdefault(log, read(log)) if log else ""
        out, secs = text, None
        if sub:
            out, secs = subtest_output(text, sub)
            out = out or text
        start, end = float(t0 or 0), float(t1 or 0)
        if secs is not None:
            start, end = 0.0, secs
        entry = {
            "result": RESULT[res],
            "out": out,
            "err": "",
            "dmesg": dm.get(run, ""),
            "time": {"__type__": "TimeAttribute", "start": start, "end": end},
        }
        if " (" in name:
            entry["out"] = name.split(" (", 1)[1].rstrip(")") + "\n" + entry["out"]
        # A name reported twice (a crash after a result) keeps the worse one.
        old = tests.get(key)
        if old and old["result"] == "fail":
            continue
        tests[key] = entry

    totals = {"pass": 0, "fail": 0, "skip": 0}
    for t in tests.values():
        totals[t["result"]] += 1
    doc = {
        "__type__": "TestrunResult",
        "results_version": 10,
        "name": "gsvm",
        "uname": read("/proc/version").strip(),
        "tests": tests,
        "totals": {"root": totals},
    }
    with open(os.path.join(d, "results.json"), "w") as f:
        json.dump(doc, f, indent=1, sort_keys=True)

    suites = {}
    for key, t in sorted(tests.items()):
        kind, _, rest = key.partition("@")
        suite, _, case = rest.partition("@")
        suites.setdefault(kind + "@" + suite, []).append((case or suite, t))
    root = ET.Element("testsuites", name="gsvm", tests=str(len(tests)),
                      failures=str(totals["fail"]), skipped=str(totals["skip"]))
    for sname, cases in sorted(suites.items()):
        s = ET.SubElement(root, "testsuite", name=sname, tests=str(len(cases)),
                          failures=str(sum(c[1]["result"] == "fail" for c in cases)),
                          skipped=str(sum(c[1]["result"] == "skip" for c in cases)))
        for cname, t in cases:
            tm = t["time"]["end"] - t["time"]["start"]
            c = ET.SubElement(s, "testcase", classname=sname.replace("@", "."),
                              name=cname, time="%.3f" % max(tm, 0.0))
            if t["result"] == "fail":
                ET.SubElement(c, "failure", message="failed").text = t["out"][-4000:]
            elif t["result"] == "skip":
                ET.SubElement(c, "skipped")
            ET.SubElement(c, "system-out").text = t["out"]
            if t["dmesg"]:
                ET.SubElement(c, "system-err").text = t["dmesg"]
    ET.ElementTree(root).write(os.path.join(d, "junit.xml"), encoding="utf-8",
                               xml_declaration=True)
    return tests


def selftest():
    ok = True

    def check(what, cond):
        nonlocal ok
        print("%s results-export/%s" % ("PASS" if cond else "FAIL", what))
        ok = ok and cond

    with tempfile.TemporaryDirectory() as d:
        log = os.path.join(d, "igt-bin.log")
        with open(log, "w") as f:
            f.write("IGT-Version: 1.0\nStarting subtest: a\nhello a\n"
                    "Subtest a: SUCCESS (0.250s)\nStarting subtest: b\nstale read\n"
                    "Subtest b: FAIL (1.500s)\n")
        with open(os.path.join(d, "dmesg.txt"), "w") as f:
            f.write("[1] boot\n[2] gsvm-run-tests: start run=1 igt/bin\n[3] inside\n"
                    "[4] gsvm-run-tests: end run=1 igt/bin (status 98)\n[5] after\n"
                    "[6] gsvm-run-tests: start run=2 igt/bin --run-subtest b\n"
                    "[7] selfcheck\n[8] gsvm-run-tests: end run=2 igt/bin\n")
        with open(os.path.join(d, "results.tsv"), "w") as f:
            f.write("PASS\tigt/bin/a\t%s\t1\t2\ta\t1\n" % log)
            f.write("FAIL\tigt/bin/b (FAIL)\t%s\t1\t2\tb\t1\n" % log)
            f.write("SKIP\tkunit/s/c (no device)\t\t3\t3\n")
            f.write("PASS\tlint/w1e\t\t0\t4\n")
            f.write("PASS\tselfcheck-skip_tlb_inval-b (the injected bug is caught)\t%s\t5\t6\tb\t2\n"
                    % log)
        tests = export(d)
        with open(os.path.join(d, "results.json")) as f:
            doc = json.load(f)
        t = doc["tests"]
        check("keys", sorted(t) == ["gsvm@lint@w1e", "gsvm@selfcheck@skip_tlb_inval-b",
                                    "igt@bin@a", "igt@bin@b", "kunit@s@c"])
        check("fields", all(set(v) >= {"result", "out", "err", "dmesg", "time"}
                            for v in t.values()))
        check("result", [t[k]["result"] for k in ("igt@bin@a", "igt@bin@b", "kunit@s@c")]
              == ["pass", "fail", "skip"])
        check("out", "hello a" in t["igt@bin@a"]["out"] and "stale read" not in
              t["igt@bin@a"]["out"] and "stale read" in t["igt@bin@b"]["out"])
        check("time", t["igt@bin@b"]["time"]["end"] == 1.5)
        check("dmesg", t["igt@bin@a"]["dmesg"] == "[3] inside\n" and
              t["gsvm@selfcheck@skip_tlb_inval-b"]["dmesg"] == "[7] selfcheck\n" and
              t["kunit@s@c"]["dmesg"] == "")
        check("selfcheck-out", "stale read" in t["gsvm@selfcheck@skip_tlb_inval-b"]["out"])
        j = ET.parse(os.path.join(d, "junit.xml")).getroot()
        cases = j.findall(".//testcase")
        check("junit", len(cases) == len(tests) and j.get("failures") == "1"
              and len(j.findall(".//failure")) == 1 and len(j.findall(".//skipped")) == 1)
    return ok


def main():
    if sys.argv[1:] == ["--selftest"]:
        sys.exit(0 if selftest() else 1)
    if len(sys.argv) != 2 or not os.path.isdir(sys.argv[1]):
        print("usage: %s DIR | --selftest" % sys.argv[0], file=sys.stderr)
        sys.exit(2)
    tests = export(sys.argv[1])
    print("results-export: %d results in %s/results.json and junit.xml"
          % (len(tests), sys.argv[1]))


if __name__ == "__main__":
    main()
