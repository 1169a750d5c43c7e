#!/usr/bin/python3
"""Writes api/openapi.yaml as JSON (what GET /openapi.json serves).
Usage: openapi-json.py <openapi.yaml> <openapi.json>
Keys keep the YAML's order; the output is compact, ends with a newline and depends only on
the YAML, so two builds of the same source embed the same bytes."""
import json
import sys

import yaml


def main():
    src, dst = sys.argv[1], sys.argv[2]
    with open(src, encoding="utf-8") as f:
        spec = yaml.safe_load(f)
    text = json.dumps(spec, ensure_ascii=False, separators=(",", ":")) + "\n"
    with open(dst, "w", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    main()
