#!/usr/bin/env python3
"""Prints the README's loss catalogue table from a running lossd's GET /v1/losses.

Usage: scripts/catalogue-table.py [http://127.0.0.1:8080]
"""
import json
import sys
import urllib.request

base = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8080"
with urllib.request.urlopen(base + "/v1/losses") as r:
    losses = json.load(r)["losses"]


def fmt_param(p):
    d = p.get("default")
    if p["type"] == "array":
        return p["name"]
    if isinstance(d, bool):
        d = str(d).lower()
    return f"{p['name']}={d}" if d is not None else p["name"]


FAMILIES = ["regression", "classification", "embedding", "detection", "segmentation", "gan",
            "sequence"]
losses.sort(key=lambda l: FAMILIES.index(l["family"]) if l["family"] in FAMILIES else 99)


def cell(text):
    return text.replace("|", "\\|")


print("| loss | family | inputs | parameters (defaults) | gradient w.r.t. | reference |")
print("|---|---|---|---|---|---|")
for l in losses:
    ref = l["reference"]
    if l.get("aliases"):
        ref += " (alias " + ", ".join(f"`{a}`" for a in l["aliases"]) + ")"
    inputs = ", ".join(i["name"] for i in l["inputs"])
    params = ", ".join(fmt_param(p) for p in l.get("parameters", [])) or "-"
    grads = ", ".join(l.get("gradients", []))
    print(f"| `{l['name']}` | {l['family']} | {inputs} | {cell(params)} | {grads} | {cell(ref)} |")
