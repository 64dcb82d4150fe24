#!/usr/bin/env python3
"""Checks that the documents say what the files do (issue 12, item 5).

Prints one "ok   - ..." or "FAIL - ..." line per check, for
tests/system/test_docs.sh to count:

- docs/scenarios.md's table of bundled scenarios is the one
  scripts/scenarios-table.py makes from the files' headers;
- each scenario's header names the time of every fault it scripts (t=N);
- the demo's fault times (demo/demo.scn) are the ones that demo/run.sh's
  banner, docs/scenarios.md and README's quick start announce;
- every configuration directive and source option the parsers accept
  (their tables in the sources) is in vettime.conf(5) and in README.md or
  docs/*.md;
- every `vettime` command (cli/vettime.c's table) is in vettime(1) and in
  README.md.
"""
import glob
import os
import re
import subprocess
import sys

TOP = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
failed = 0


def result(ok, what):
    global failed
    print(("ok   - " if ok else "FAIL - ") + what)
    if not ok:
        failed += 1


def read(rel):
    with open(os.path.join(TOP, rel), encoding="utf-8") as f:
        return f.read()


def at_times(text):
    """The times of a scenario's `at` lines, as written ("30", "0.5")."""
    times = []
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if len(words) >= 4 and words[0] == "at":
            times.append(words[1])
    return times


# ---- the scenarios table ----
r = subprocess.run([sys.executable, os.path.join(TOP, "scripts", "scenarios-table.py"), "--check"],
                   capture_output=True, text=True)
result(r.returncode == 0, "docs/scenarios.md's table is the one made from tests/scenarios/*.scn"
       + ("" if r.returncode == 0 else ": " + r.stderr.strip()))

# ---- each header names its faults' times ----
for path in sorted(glob.glob(os.path.join(TOP, "tests", "scenarios", "*.scn"))):
    text = open(path, encoding="utf-8").read()
    head = " ".join(l[1:] for l in text.splitlines() if l.startswith("#"))
    m = re.search(r"Shows:(.*?)vettimed must conclude", head, re.S)
    shows = m.group(1) if m else ""
    missing = [t for t in at_times(text) if not re.search(r"\bt=" + re.escape(t) + r"\b", shows)]
    result(m is not None and not missing,
           f"{os.path.basename(path)}: its header's \"Shows:\" names every fault time"
           + (f" (missing t={', t='.join(missing)})" if missing else ""))

# ---- the demo's times ----
demo_times = sorted(set(at_times(read("demo/demo.scn"))), key=float)
banner = read("demo/run.sh")
scen = read("docs/scenarios.md")
demo_par = scen[scen.find("`demo/demo.scn`"):]
demo_par = demo_par[:demo_par.find("\n\n")]
readme = read("README.md")
quick = readme[readme.find("## Quick start"):]
quick = quick[:quick.find("\n## ", 5)]
for name, text in (("demo/run.sh's banner", banner), ("docs/scenarios.md's demo paragraph", demo_par),
                   ("README's quick start", quick)):
    said = sorted(set(re.findall(r"\bt=(\d+(?:\.\d+)?)", text)), key=float)
    result(len(demo_times) > 0 and said == demo_times,
           f"{name} announces the demo's fault times {demo_times} (it says {said})")

# ---- directives ----
config_c = read("monitor/config.c")
directives = set(re.findall(r'\{"([a-z0-9]+)",\s*dir_', config_c))
options = set(re.findall(r'\{"([a-z0-9]+)",\s*(?:true|false),\s*K', config_c))
for path in glob.glob(os.path.join(TOP, "*", "*_config.c")):
    m = re.search(r"family_directives\[\]\s*=\s*\{([^}]*)\}", open(path, encoding="utf-8").read())
    if m:
        directives |= set(re.findall(r'"([a-z0-9]+)"', m.group(1)))
result(len(directives) >= 30 and len(options) >= 10,
       f"the parsers' tables were read ({len(directives)} directives, {len(options)} source options)")
man5 = read("docs/vettime.conf.5")
man_macro_lines = "\n".join(l for l in man5.splitlines() if re.match(r"\.(B|BI|BR|IB|RB)\s", l))
user_docs = readme + "".join(open(p, encoding="utf-8").read() for p in glob.glob(os.path.join(TOP, "docs", "*.md")))
code_lines = []
for block in re.findall(r"```[a-z]*\n(.*?)```", user_docs, re.S):
    code_lines.extend(block.splitlines())
code_text = "\n".join(code_lines)
no_man, no_doc = [], []
for name in sorted(directives | options):
    if not re.search(r"\b" + name + r"\b", man_macro_lines):
        no_man.append(name)
    in_ticks = re.search(r"`" + name + r"[` ]", user_docs)
    in_code = re.search(r"(^|\s)" + name + r"(\s|$)", code_text, re.M)
    if not (in_ticks or in_code):
        no_doc.append(name)
result(not no_man, "every directive and source option is in vettime.conf(5)"
       + (f" (missing: {' '.join(no_man)})" if no_man else ""))
result(not no_doc, "every directive and source option is in README.md or docs/*.md"
       + (f" (missing: {' '.join(no_doc)})" if no_doc else ""))

# ---- commands ----
commands = re.findall(r'\{"([a-z]+)",\s*cmd_', read("cli/vettime.c"))
man1 = read("docs/vettime.1")
result(len(commands) >= 10, f"cli/vettime.c's command table was read ({len(commands)} commands)")
no_man = [c for c in commands if c != "help" and not re.search(r"^\.(B|BI|BR|TP)\s.*\b" + c + r"\b", man1, re.M)]
readme_code = "\n".join(l for b in re.findall(r"```[a-z]*\n(.*?)```", readme, re.S) for l in b.splitlines())
no_readme = [c for c in commands if c != "help"
             and not re.search(r"vettime[^\n`]*\b" + c + r"\b", readme)
             and not re.search(r"^  " + c + r"\s", readme_code, re.M)]
result(not no_man, "every vettime command is in vettime(1)" + (f" (missing: {' '.join(no_man)})" if no_man else ""))
result(not no_readme, "every vettime command is in README.md" + (f" (missing: {' '.join(no_readme)})" if no_readme else ""))

sys.exit(1 if failed else 0)
