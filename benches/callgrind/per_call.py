#!/usr/bin/env python3
"""Inclusive instructions per call of the functions whose name contains PATTERN, from a
callgrind output file (call counts and costs summed over every call site).

Usage: per_call.py CALLGRIND_OUT PATTERN...
"""
import re
import sys


def main() -> None:
    path, patterns = sys.argv[1], sys.argv[2:]
    names: dict[str, str] = {}
    calls: dict[str, int] = {}
    cost: dict[str, int] = {}
    lines = open(path, encoding="utf-8", errors="replace").read().split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        m = re.match(r"c?fn=\((\d+)\)(?: (.*))?$", line)
        if m and m.group(2):
            names[m.group(1)] = m.group(2)
        if m and line.startswith("cfn=") and i + 2 < len(lines):
            c = re.match(r"calls=(\d+)", lines[i + 1])
            if c:
                fields = lines[i + 2].split()
                calls[m.group(1)] = calls.get(m.group(1), 0) + int(c.group(1))
                if len(fields) > 1:
                    cost[m.group(1)] = cost.get(m.group(1), 0) + int(fields[1])
                i += 2
        i += 1
    for fid, n in sorted(calls.items(), key=lambda kv: -cost.get(kv[0], 0)):
        name = names.get(fid, "?")
        if any(p in name for p in patterns):
            print(f"{n:>9} calls {cost.get(fid, 0) / max(n, 1):>9.0f} instructions/call  {name[:110]}")


if __name__ == "__main__":
    main()
