#!/usr/bin/python3
"""Writes api/openapi.yaml as JSON (what GET /openapi.json serves).

Usage: openapi_json.py <openapi.yaml> <openapi.json>

The YAML is read as YAML 1.2 (core schema), as the tools that read the spec in the browser
and in lint do (Swagger UI, Redocly): PyYAML alone reads YAML 1.1, where `1e-07` is a string
and `yes`/`on` are booleans. Keys keep their order; the output is compact, ends with a
newline and depends only on the YAML, so two builds of one source embed the same bytes.
tests/web/check_spec_examples.py loads the spec with the same loader."""
import json
import re
import sys

import yaml


class Yaml12Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 core-schema booleans, integers and floats."""


_REPLACED = {"tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"}
Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in _REPLACED]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?[0-9]+|0x[0-9a-fA-F]+)$"), list("-+0123456789"))
Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
               r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+0123456789."))


def _int(loader, node):
    text = loader.construct_scalar(node)
    return int(text, 16) if text.startswith("0x") else int(text, 10)


Yaml12Loader.add_constructor("tag:yaml.org,2002:int", _int)


def load(path):
    """The spec at path as Python objects, read as YAML 1.2."""
    with open(path, encoding="utf-8") as f:
        return yaml.load(f, Loader=Yaml12Loader)


def main():
    src, dst = sys.argv[1], sys.argv[2]
    text = json.dumps(load(src), ensure_ascii=False, separators=(",", ":")) + "\n"
    with open(dst, "w", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    main()
