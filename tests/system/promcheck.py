#!/usr/bin/env python3
"""A strict check of the Prometheus text exposition format, version 0.0.4
(https://prometheus.io/docs/instrumenting/exposition_formats/), stricter
than Prometheus' own parser where the format leaves room, so that what
vettimed serves is right by construction:

- the document is valid UTF-8 and every line ends with "\\n";
- no blank lines; a comment is "# HELP name text", "# TYPE name type" or
  any other "# ..." text;
- names match [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]*
  and do not start with "__";
- HELP and TYPE at most once per family, both before its first sample;
  every sample has a TYPE (strict: the format allows "untyped");
- a family's samples are contiguous (one group per family);
- TYPE is counter or gauge (vettime writes no summary or histogram), a
  counter's name ends in _total, a counter's value is >= 0 or NaN;
- label values use only the escapes \\\\, \\" and \\n; a label name appears
  once per sample;
- the value is a Go ParseFloat number, NaN, +Inf or -Inf; an optional
  timestamp is an integer;
- no series (name and label set) appears twice.

Usage: promcheck.py FILE [--prefix vettime_] ; prints every problem as
"LINE: what" and ends with "OK N families, N samples" (exit 0) or
"FAILED N problems" (exit 1).
"""
import re
import sys

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r"[a-zA-Z_][a-zA-Z0-9_]*"
FLOAT = re.compile(r"^[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|Inf|NaN)$")
INT = re.compile(r"^-?[0-9]+$")


def help_escapes_ok(text):
    """HELP text may use only the escapes \\\\ and \\n."""
    i = 0
    while i < len(text):
        if text[i] == "\\":
            if text[i + 1:i + 2] not in ("\\", "n"):
                return False
            i += 2
        else:
            i += 1
    return True


def parse_labels(s, pos, lineno, problems):
    """Parses '{...}' from s[pos] ('{'); returns (labels dict, position after '}')."""
    labels = {}
    i = pos + 1
    if i < len(s) and s[i] == "}":
        return labels, i + 1
    while True:
        m = re.compile(LABEL).match(s, i)
        if not m:
            problems.append("%d: bad label name at column %d" % (lineno, i + 1))
            return None, None
        name = m.group(0)
        if name.startswith("__"):
            problems.append("%d: label name %s is reserved" % (lineno, name))
        i = m.end()
        if s[i:i + 2] != '="':
            problems.append('%d: expected =" after label %s' % (lineno, name))
            return None, None
        i += 2
        val = []
        while True:
            if i >= len(s):
                problems.append("%d: unterminated label value" % lineno)
                return None, None
            c = s[i]
            if c == "\\":
                nxt = s[i + 1:i + 2]
                if nxt not in ("\\", '"', "n"):
                    problems.append("%d: bad escape \\%s in label %s" % (lineno, nxt, name))
                    return None, None
                val.append({"\\": "\\", '"': '"', "n": "\n"}[nxt])
                i += 2
            elif c == '"':
                i += 1
                break
            else:
                val.append(c)
                i += 1
        if name in labels:
            problems.append("%d: label %s twice" % (lineno, name))
        labels[name] = "".join(val)
        if i < len(s) and s[i] == ",":
            i += 1
            if i < len(s) and s[i] == "}":  # a trailing comma is allowed
                return labels, i + 1
            continue
        if i < len(s) and s[i] == "}":
            return labels, i + 1
        problems.append("%d: expected , or } at column %d" % (lineno, i + 1))
        return None, None


def check(text, prefix=""):
    problems = []
    if not text:
        return ["0: empty document"], 0, 0
    if not text.endswith("\n"):
        problems.append("end: the last line has no newline")
    helps, types, started, done = {}, {}, set(), set()
    current = None
    series = set()
    nsamples = 0
    for lineno, line in enumerate(text.split("\n")[:-1], 1):
        if line == "":
            problems.append("%d: blank line" % lineno)
            continue
        if line.startswith("#"):
            m = re.match(r"^# (HELP|TYPE) (\S+)(?: (.*))?$", line)
            if not m:
                continue  # a plain comment
            kind, name, rest = m.group(1), m.group(2), m.group(3) or ""
            if not re.fullmatch(NAME, name):
                problems.append("%d: bad metric name %r" % (lineno, name))
            if name in started:
                problems.append("%d: %s for %s after its samples" % (lineno, kind, name))
            table = helps if kind == "HELP" else types
            if name in table:
                problems.append("%d: second %s for %s" % (lineno, kind, name))
            if kind == "HELP":
                if not help_escapes_ok(rest):
                    problems.append("%d: bad escape in HELP of %s" % (lineno, name))
                helps[name] = rest
            else:
                if rest not in ("counter", "gauge"):
                    problems.append("%d: TYPE %r of %s (counter or gauge expected)" % (lineno, rest, name))
                if rest == "counter" and not name.endswith("_total"):
                    problems.append("%d: counter %s does not end in _total" % (lineno, name))
                if rest == "gauge" and name.endswith("_total"):
                    problems.append("%d: gauge %s ends in _total" % (lineno, name))
                types[name] = rest
            continue
        m = re.compile(NAME).match(line)
        if not m:
            problems.append("%d: bad sample line %r" % (lineno, line[:60]))
            continue
        name = m.group(0)
        if prefix and not name.startswith(prefix):
            problems.append("%d: %s lacks the prefix %s" % (lineno, name, prefix))
        i = m.end()
        labels = {}
        if i < len(line) and line[i] == "{":
            labels, i = parse_labels(line, i, lineno, problems)
            if labels is None:
                continue
        rest = line[i:]
        if not rest.startswith(" "):
            problems.append("%d: expected a space before the value of %s" % (lineno, name))
            continue
        parts = rest[1:].split(" ")
        if len(parts) not in (1, 2) or not FLOAT.match(parts[0]) or \
                (len(parts) == 2 and not INT.match(parts[1])):
            problems.append("%d: bad value or timestamp %r for %s" % (lineno, rest[1:], name))
            continue
        if name not in types:
            problems.append("%d: sample of %s before (or without) its TYPE" % (lineno, name))
        if name in done:
            problems.append("%d: %s's samples are not in one group" % (lineno, name))
        if current is not None and current != name:
            done.add(current)
        current = name
        started.add(name)
        if types.get(name) == "counter":
            v = float(parts[0].replace("Inf", "inf"))
            if v < 0:
                problems.append("%d: counter %s is negative" % (lineno, name))
        key = (name, tuple(sorted(labels.items())))
        if key in series:
            problems.append("%d: series %s%s twice" % (lineno, name, labels))
        series.add(key)
        nsamples += 1
    return problems, len(types), nsamples


def main():
    args = sys.argv[1:]
    prefix = ""
    if "--prefix" in args:
        k = args.index("--prefix")
        prefix = args[k + 1]
        del args[k:k + 2]
    data = open(args[0], "rb").read() if args and args[0] != "-" else sys.stdin.buffer.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        print("not UTF-8: %s" % e)
        print("FAILED 1 problems")
        return 1
    problems, nfam, nsamples = check(text, prefix)
    for p in problems[:50]:
        print(p)
    if problems:
        print("FAILED %d problems" % len(problems))
        return 1
    print("OK %d families, %d samples" % (nfam, nsamples))
    return 0


if __name__ == "__main__":
    sys.exit(main())
