#!/usr/bin/env python3
"""Copies bench/PERFORMANCE.md (written by a full `make bench`) into README.md between the
performance markers, so the README's table is always the last full run's."""
import os
import sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BEGIN, END = "<!-- performance:begin -->", "<!-- performance:end -->"
with open(os.path.join(root, "bench", "PERFORMANCE.md")) as f:
    perf = f.read().strip()
path = os.path.join(root, "README.md")
with open(path) as f:
    readme = f.read()
if BEGIN not in readme or END not in readme:
    sys.exit("README.md lacks the performance markers")
head, rest = readme.split(BEGIN, 1)
_, tail = rest.split(END, 1)
with open(path, "w") as f:
    f.write(head + BEGIN + "\n" + perf.replace("](/bench/", "](bench/") + "\n" + END + tail)
