#!/usr/bin/env python3
"""The "Bundled scenarios" table of docs/scenarios.md, made from the files.

Each tests/scenarios/*.scn starts with a comment header: a title line, then
"Shows: ..." and "vettimed must conclude...: ..." paragraphs. The table in
docs/scenarios.md is this script's output between its two marker lines, so
the document cannot drift from the files (tests/system/test_docs.sh checks
that it is current).

  scripts/scenarios-table.py             print the table
  scripts/scenarios-table.py --write     rewrite it in docs/scenarios.md
  scripts/scenarios-table.py --check     exit 1 (saying what differs) when
                                         docs/scenarios.md is not current
"""
import glob
import os
import re
import sys

TOP = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
DOC = os.path.join(TOP, "docs", "scenarios.md")
BEGIN = "<!-- scenarios table: made by scripts/scenarios-table.py from the files' headers; do not edit -->"
END = "<!-- end of the scenarios table -->"


class HeaderError(Exception):
    pass


def header(path):
    """(title, shows, conclude) from the leading comment block of a file."""
    lines = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.startswith("#"):
                break
            lines.append(line[1:].strip())
    text = " ".join(lines)
    m = re.match(r"(.*?)\s*Shows:\s*(.*?)\s*vettimed must conclude[^:]*:\s*(.*)$", text)
    if not m:
        raise HeaderError(f"{path}: the header lacks \"Shows:\" or \"vettimed must conclude:\"")
    title, shows, conclude = (s.strip() for s in m.groups())
    return title, shows, conclude


def fault_times(path):
    """The times of the file's `at` lines."""
    times = set()
    with open(path, encoding="utf-8") as f:
        for line in f:
            words = line.split("#", 1)[0].split()
            if len(words) >= 4 and words[0] == "at":
                times.add(words[1])
    return times


def cell(text):
    return text.replace("|", "\\|")


def table():
    rows = ["| File | Shows | vettimed must conclude |", "|---|---|---|"]
    for path in sorted(glob.glob(os.path.join(TOP, "tests", "scenarios", "*.scn"))):
        _, shows, conclude = header(path)
        rows.append(f"| `{os.path.basename(path)}` | {cell(shows)} | {cell(conclude)} |")
    return "\n".join(rows) + "\n"


def current_table(doc_text):
    i = doc_text.find(BEGIN)
    j = doc_text.find(END)
    if i < 0 or j < i:
        return None
    return doc_text[i + len(BEGIN):j].strip("\n") + "\n"


def main():
    arg = sys.argv[1] if len(sys.argv) > 1 else ""
    try:
        made = table()
    except HeaderError as e:
        print(e, file=sys.stderr)
        return 1
    if arg == "":
        sys.stdout.write(made)
        return 0
    with open(DOC, encoding="utf-8") as f:
        doc = f.read()
    have = current_table(doc)
    if have is None:
        print(f"{DOC}: the marker lines of the scenarios table are missing", file=sys.stderr)
        return 1
    if arg == "--check":
        if have == made:
            return 0
        old, new = have.splitlines(), made.splitlines()
        for k in range(max(len(old), len(new))):
            a = old[k] if k < len(old) else "(none)"
            b = new[k] if k < len(new) else "(none)"
            if a != b:
                print(f"{DOC}: the scenarios table is not current (run scripts/scenarios-table.py --write)\n"
                      f"  in the document: {a[:160]}\n  from the files:  {b[:160]}", file=sys.stderr)
                break
        return 1
    if arg == "--write":
        i = doc.find(BEGIN) + len(BEGIN)
        j = doc.find(END)
        with open(DOC, "w", encoding="utf-8") as f:
            f.write(doc[:i] + "\n" + made + doc[j:])
        return 0
    print(__doc__, file=sys.stderr)
    return 64


if __name__ == "__main__":
    sys.exit(main())
