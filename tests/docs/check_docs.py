#!/usr/bin/python3
"""Checks that lossd's documentation and comments cite only what exists in the repository,
and that the user documentation covers what the code defines.

Usage: /usr/bin/python3 tests/docs/check_docs.py [REPO_ROOT]   (default: this file's repo)
       /usr/bin/python3 tests/docs/check_docs.py --self-test  (plants faults in a scratch repo
                                                                and requires exactly those)
Exit 0 when every check passes; otherwise one line per problem (file:line: what) and exit 1.

What is scanned: the repository's files (`git ls-files`; without git, a walk that skips
build*/ and hidden directories), except binary files and generated data (tests/fixtures/,
fuzz/corpus/; their README.md files are checked).
  - Markdown (*.md): the whole text, fenced code blocks included;
  - YAML (*.yaml, *.yml): the whole text, comments and values;
  - C, C++, JavaScript (*.c, *.h, *.cpp, *.mjs, *.js): comments only;
  - Python (*.py): comments and docstrings;
  - shell, CMake, Makefile, Dockerfile, nginx *.conf, .ci/run: '#' comments; Lua: '--'.

Checks:
 1. Markdown links, [text](target), ![alt](target) and [ref]: target, outside code:
    a target with a scheme (https:, mailto:) is not fetched; any other target must exist in
    the repository, relative to the file's directory, or to the repository root when it
    starts with '/' (GitHub's rule). A #fragment must be a heading of the target Markdown
    file (GitHub's slug: lower case, punctuation dropped, spaces to '-', -1/-2 for repeats)
    or an explicit id/name anchor in it.
 2. Repository paths cited in text: a token that starts with a top-level directory of the
    repository (`core/loss.c`, `docs/`, `.ci/run`) or with ./ or ../ (resolved against the
    file's directory) must exist. Not tokens: anything glued to a preceding '/', '.', word
    character or '$' (URLs, absolute host or container paths such as /usr/local/bin/lossd,
    shell variables such as $REPO/Dockerfile). Trailing punctuation is dropped, and a
    trailing :NUMBER (a line number) or :/container/path (a volume) is cut.
      - Wildcards `*`, `?`, `{a,b}` and placeholders `<name>` must match at least one path.
      - Build outputs are not cited files: a path that .gitignore ignores (build/lossd,
        bench/out/) is accepted without existing.
      - In a Markdown code block, ./ and ../ are relative to where that code lives (an
        include of a parent directory's header in an example test), so they are not
        resolved.
      - A worked example may name files that do not exist yet: a Markdown file lists their
        patterns in a comment, <!-- check_docs: example paths PATTERN... -->, and tokens
        matching one of them are accepted in that file.
 3. Nothing refers outside the repository, wherever it appears: a ../ that climbs above the
    root; a bare Markdown file name (no directory) that no file of the repository has; a
    Markdown path whose first directory is no top-level directory of the repository (an
    upper-case placeholder such as OUT_DIR in a usage line excepted); an absolute path to a
    Markdown file (no reader of the repository has it).
 4. Coverage: every loss (a LOSS(family, name) line under core/) has a section in
    docs/losses.md; every error code of api/api_error.h has a row in docs/api.md's error
    table; every flag of server/config.c appears in docs/deploy.md.
 5. One image tag: every `lossd:<tag>` in the Dockerfile, docker/, README.md and docs/ is
    lossd:<the project VERSION of CMakeLists.txt> (host:port pairs such as lossd:8080 are not
    tags).
"""
import ast
import fnmatch
import io
import os
import re
import subprocess
import sys
import tokenize

ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] != "--self-test" else
                       os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
SKIP_DIRS = ("tests/fixtures/", "fuzz/corpus/", "server/web/vendor/")  # generated or vendored data; *.md still checked
problems = []


def problem(path, line, what):
    problems.append(f"{path}:{line}: {what}")


# ---------------------------------------------------------------- the repository's files

def list_files():
    try:
        out = subprocess.run(["git", "-C", ROOT, "ls-files", "-z"], check=True,
                             capture_output=True).stdout.decode()
        files = [f for f in out.split("\0") if f]
        if files:
            return files
    except (OSError, subprocess.CalledProcessError):
        pass
    files = []
    for d, dirs, names in os.walk(ROOT):
        dirs[:] = [x for x in dirs if not x.startswith(".") or x == ".ci"]
        dirs[:] = [x for x in dirs if not x.startswith("build")]
        files += [os.path.relpath(os.path.join(d, n), ROOT) for n in names]
    return files


FILES = sorted(f for f in list_files() if os.path.exists(os.path.join(ROOT, f)))
FILESET = set(FILES)
DIRSET = {os.path.dirname(f) for f in FILES}
for f in list(DIRSET):
    while f:
        f = os.path.dirname(f)
        DIRSET.add(f)
BASENAMES = {os.path.basename(f) for f in FILES}
TOP_DIRS = sorted({f.split("/", 1)[0] for f in FILES if "/" in f})


def exists(rel):
    rel = rel.rstrip("/")
    return rel == "" or rel in FILESET or rel in DIRSET


def ignored(rel):
    """Whether .gitignore ignores rel, as a file or as a directory (a build output such as
    build/lossd or bench/out, not a cited file)."""
    try:
        r = subprocess.run(["git", "-C", ROOT, "check-ignore", "--no-index", rel, rel + "/"],
                           capture_output=True)
        return r.returncode == 0 and r.stdout.strip() != b""
    except OSError:
        return rel.startswith("build") or rel.startswith("bench/out")


def expand_braces(pattern):
    m = re.search(r"\{([^{}]*)\}", pattern)
    if not m:
        return [pattern]
    out = []
    for alt in m.group(1).split(","):
        out += expand_braces(pattern[:m.start()] + alt + pattern[m.end():])
    return out


def glob_matches(pattern):
    pattern = re.sub(r"<[^<>/]*>", "*", pattern).rstrip("/")
    for p in expand_braces(pattern):
        if any(fnmatch.fnmatchcase(f, p) for f in FILESET | DIRSET):
            return True
    return False


# ---------------------------------------------------------------- text extraction

def c_comments(text):
    """(line, text) of each // and /* */ comment; strings and chars are skipped."""
    out, i, n, line = [], 0, len(text), 1
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            line += text.count("\n", i, j)
            i = j + 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append((line, text[i:j]))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append((line, text[i:j]))
            line += text.count("\n", i, j)
            i = j
        else:
            i += 1
    return out


def hash_comments(text, marker="#"):
    """(line, text) of each comment started by marker outside quotes, at the start of a line
    or after a blank."""
    out = []
    for no, raw in enumerate(text.splitlines(), 1):
        quote = None
        for k, c in enumerate(raw):
            if quote:
                if c == quote:
                    quote = None
            elif c in "\"'":
                quote = c
            elif raw.startswith(marker, k) and (k == 0 or raw[k - 1] in " \t"):
                out.append((no, raw[k:]))
                break
    return out


def python_texts(text, path):
    out = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.COMMENT:
                out.append((tok.start[0], tok.string))
        tree = ast.parse(text)
    except (tokenize.TokenError, SyntaxError) as e:
        problem(path, 1, f"cannot parse: {e}")
        return out
    for node in [tree] + [n for n in ast.walk(tree)
                          if isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))]:
        if node.body and isinstance(node.body[0], ast.Expr) and \
                isinstance(node.body[0].value, ast.Constant) and \
                isinstance(node.body[0].value.value, str):
            out.append((node.body[0].lineno, node.body[0].value.value))
    return out


def texts_of(path, text):
    """The (line, text) pieces of a file that may cite paths."""
    name = os.path.basename(path)
    ext = name.rsplit(".", 1)[-1] if "." in name else ""
    if ext == "md":  # link targets are checked as links, not again as cited paths
        text = re.sub(r"(\]\()([^)]*)(\))", lambda m: m.group(1) + " " * len(m.group(2))
                      + m.group(3), text)
        lines, fence = [], False
        for line in text.split("\n"):  # relative paths in code blocks: see the docstring
            if re.match(r"\s*(```|~~~)", line):
                fence = not fence
            elif fence:
                line = re.sub(r"(?<![\w./$@~-])\.\.?/\S*", lambda m: " " * len(m.group(0)), line)
            lines.append(line)
        return [(1, "\n".join(lines))]
    if ext in ("yaml", "yml"):
        return [(1, text)]
    if ext in ("c", "h", "cpp", "mjs", "js"):
        return c_comments(text)
    if ext == "py":
        return python_texts(text, path)
    if ext == "lua":
        return hash_comments(text, "--")
    if ext in ("sh", "cmake", "conf") or name in ("CMakeLists.txt", "Makefile", "Dockerfile") \
            or path == ".ci/run" or text.startswith("#!"):
        return hash_comments(text)
    return []


# ---------------------------------------------------------------- Markdown links

def slugify(heading):
    h = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    h = h.replace("`", "").replace("*", "").strip().lower()
    h = re.sub(r"[^\w\- ]", "", h)
    return h.replace(" ", "-")


def strip_code(text, inline=True):
    """Markdown text with fenced blocks (and inline code spans) blanked, newlines kept."""
    out, fence = [], None
    for line in text.split("\n"):
        m = re.match(r"\s*(```|~~~)", line)
        if fence:
            out.append("")
            if m and line.strip().startswith(fence):
                fence = None
            continue
        if m:
            fence = m.group(1)
            out.append("")
            continue
        out.append(re.sub(r"`[^`]*`", lambda s: " " * len(s.group(0)), line) if inline else line)
    return "\n".join(out)


ANCHORS = {}


def anchors(rel):
    if rel not in ANCHORS:
        with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
            text = strip_code(f.read(), inline=False)
        seen, found = {}, set()
        for line in text.split("\n"):
            m = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
            if m:
                s = slugify(m.group(1))
                k = seen.get(s, 0)
                found.add(s if k == 0 else f"{s}-{k}")
                seen[s] = k + 1
        found |= set(re.findall(r"<a\s+(?:name|id)=\"([^\"]+)\"", text))
        ANCHORS[rel] = found
    return ANCHORS[rel]


LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
REFDEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.M)


def check_links(path, text):
    plain = strip_code(text)
    targets = [(m.start(), m.group(1)) for m in LINK.finditer(plain)]
    targets += [(m.start(), m.group(1)) for m in REFDEF.finditer(plain)]
    for pos, target in targets:
        line = plain.count("\n", 0, pos) + 1
        if re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*:", target):
            continue  # a URL
        file_part, _, frag = target.partition("#")
        if file_part == "":
            rel = path
        elif file_part.startswith("/"):
            rel = os.path.normpath(file_part.lstrip("/"))
        else:
            rel = os.path.normpath(os.path.join(os.path.dirname(path), file_part))
        if rel.startswith(".."):
            problem(path, line, f"link {target} leaves the repository")
            continue
        rel = "" if rel == "." else rel
        if not exists(rel):
            problem(path, line, f"link {target}: {rel} does not exist")
            continue
        if frag and rel.endswith(".md") and frag not in anchors(rel):
            problem(path, line, f"link {target}: {rel} has no heading #{frag}")


# ---------------------------------------------------------------- cited paths

PATH_CHARS = r"(?:[\w.+*?<>/-]|\{[\w.,*-]+\})"
TOKEN = re.compile(r"(?<![\w./$@~-])((?:\.\.?/)+%s*|(?:%s)/%s*)" % (
    PATH_CHARS, "|".join(re.escape(d) for d in TOP_DIRS), PATH_CHARS))
BARE_MD = re.compile(r"(?<![\w./$-])([\w-]+\.md)\b")
OTHER_MD = re.compile(r"(?<![\w./$-])((?:[\w.-]+/)+[\w.-]+\.md)\b")
ABS_MD = re.compile(r"(?<![\w.:/-])((?:/[\w.-]+)+\.md)\b")


def clean_token(tok):
    tok = re.sub(r":\d+(?:-\d+)?$", "", tok)
    tok = re.sub(r"[.,;:>)-]+$", "", tok)
    return tok


def check_token(path, line, tok):
    if "$" in tok or "%" in tok:
        return
    if tok.startswith("./") or tok.startswith("../"):
        rel = os.path.normpath(os.path.join(os.path.dirname(path), tok))
        if rel.startswith(".."):
            problem(path, line, f"{tok} refers outside the repository")
            return
    else:
        rel = os.path.normpath(tok)
    rel = "" if rel == "." else rel
    if re.search(r"[*?{<]", rel):
        if not glob_matches(rel):
            problem(path, line, f"{tok} matches no file")
        return
    if not exists(rel) and not ignored(rel):
        problem(path, line, f"{tok} does not exist")


def example_patterns(pieces):
    pats = []
    for _, text in pieces:
        for m in re.finditer(r"<!--\s*check_docs:\s*example paths\s+(.*?)-->", text, re.S):
            pats += m.group(1).split()
    return pats


def check_texts(path, pieces):
    examples = example_patterns(pieces)
    for first, text in pieces:
        for k, chunk in enumerate(text.split("\n")):
            line = first + k
            for m in ABS_MD.finditer(chunk):
                problem(path, line, f"{m.group(1)} is outside the repository")
            for m in TOKEN.finditer(chunk):
                tok = clean_token(m.group(1).split(":/", 1)[0])
                if any(fnmatch.fnmatchcase(tok, pat) for pat in examples):
                    continue
                if tok and tok not in (".", ".."):
                    check_token(path, line, tok)
            for m in BARE_MD.finditer(chunk):
                if m.group(1) not in BASENAMES:
                    problem(path, line, f"{m.group(1)} is no file of this repository")
            for m in OTHER_MD.finditer(chunk):
                top = m.group(1).split("/", 1)[0]
                if top not in TOP_DIRS + [".", ".."] and not re.fullmatch(r"[A-Z_]+", top):
                    problem(path, line, f"{m.group(1)} is no file of this repository")


# ---------------------------------------------------------------- coverage and tags

def read(rel):
    with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
        return f.read()


def check_coverage():
    missing = [n for n in ("losses", "api", "deploy") if f"docs/{n}.md" not in FILESET]
    for n in missing:
        problem(f"docs/{n}.md", 1, "missing: the user documentation needs it")
    if missing:
        return
    losses_md, api_md, deploy_md = (read(f"docs/{n}.md") for n in ("losses", "api", "deploy"))
    names = set()
    for rel in FILES:
        if rel.startswith("core/") and rel.endswith(".h"):
            names |= set(re.findall(r"^LOSS\((?:\w+,\s*)?(\w+)\)", read(rel), re.M))
    if len(names) < 10:
        problem("core/", 1, f"found only {len(names)} LOSS(...) lines: the loss list moved?")
    for n in sorted(names):
        if not re.search(r"^### `%s`" % re.escape(n), losses_md, re.M):
            problem("docs/losses.md", 1, f"no section for the loss {n}")
    for status, code in re.findall(r"X\(API_\w+,\s*(\d+),\s*\"(\w+)\"\)", read("api/api_error.h")):
        if code != "ok" and not re.search(r"^\| %s \| `%s` \|" % (status, code), api_md, re.M):
            problem("docs/api.md", 1, f"the error table has no row | {status} | `{code}` |")
    for flag in re.findall(r"^\s*\{\"([a-z0-9-]+)\",", read("server/config.c"), re.M):
        if f"--{flag}" not in deploy_md:
            problem("docs/deploy.md", 1, f"the flag --{flag} is not documented")


def check_image_tags():
    m = re.search(r"project\(lossd\s+VERSION\s+([\w.]+)", read("CMakeLists.txt"))
    if not m:
        problem("CMakeLists.txt", 1, "no project(lossd VERSION ...)")
        return
    want = f"lossd:{m.group(1)}"
    for rel in FILES:
        if not (rel == "Dockerfile" or rel == "README.md" or rel.startswith("docker/")
                or (rel.startswith("docs/") and rel.endswith(".md"))):
            continue
        for no, line in enumerate(read(rel).splitlines(), 1):
            for t in re.finditer(r"(?<![\w.-])(?:localhost/)?lossd:([\w][\w.-]*)", line):
                tag = t.group(1)
                if tag.isdigit():
                    continue  # host:port
                if t.group(0) != want:
                    problem(rel, no, f"image {t.group(0)}: every image tag must be {want}")


SELF_TEST_FILES = {
    ".gitignore": "build*/\n",
    "CMakeLists.txt": "project(lossd VERSION 1.2.3 LANGUAGES C)\n",
    "Dockerfile": "# docker build -t lossd:1.2.3 .\n# docker run lossd:latest\nFROM x\n",
    "README.md": ("# Top\n[ok](docs/api.md#the-errors) [anchor](#top) [bad](docs/missing.md)\n"
                  "[badanchor](docs/api.md#nope) [out](../x.md) [url](https://x.org/a.md)\n"
                  "`core/x.c` `core/y.c` `core/*.c` `core/{x,w}.c` `core/<name>.txt` build/lossd\n"
                  "see GUIDE.md and notes/GUIDE.md; `docs/api.md:12`; /usr/local/bin/lossd\n"
                  "/srv/notes/GUIDE.md\n"
                  "```sh\ncat core/gone.c\n```\n"),
    "api/api_error.h": 'X(API_OK, 200, "ok") X(API_ERR_A, 400, "bad_a") X(API_ERR_B, 503, "busy")\n',
    "core/list.h": "".join(f"LOSS(fam, l{i})\n" for i in range(10)),
    "core/x.c": ('/* see docs/deploy.md and core/nothere.c */\n'
                 'const char *s = "core/instring.c"; // and ../../outside.c\n'),
    "docker/compose.yaml": "services:\n  lossd:\n    image: lossd:1.2.3\n    x: lossd:8080\n",
    "docs/api.md": "# API\n## The errors\n| 400 | `bad_a` | when |\n",
    "docs/deploy.md": ("`--port`\n<!-- check_docs: example paths core/new_*.c -->\n"
                       "`core/new_loss.c` `core/old_loss.c`\n```c\n#include \"../x.h\"\n```\n"),
    "docs/losses.md": "".join(f"### `l{i}`\n" for i in range(9)),
    "scripts/t.py": '"""Usage: OUT_DIR/PERFORMANCE.md scripts/none.py"""\n# reference/notes.md\n',
    "server/config.c": '    {"port", "LOSSD_PORT",\n    {"bind", "LOSSD_BIND",\n',
}
SELF_TEST_EXPECT = """README.md:2: link docs/missing.md: docs/missing.md does not exist
README.md:3: link docs/api.md#nope: docs/api.md has no heading #nope
README.md:3: link ../x.md leaves the repository
README.md:4: core/y.c does not exist
README.md:4: core/<name>.txt matches no file
README.md:5: GUIDE.md is no file of this repository
README.md:5: notes/GUIDE.md is no file of this repository
README.md:6: /srv/notes/GUIDE.md is outside the repository
README.md:8: core/gone.c does not exist
core/x.c:1: core/nothere.c does not exist
core/x.c:2: ../../outside.c refers outside the repository
scripts/t.py:1: scripts/none.py does not exist
scripts/t.py:2: reference/notes.md is no file of this repository
docs/losses.md:1: no section for the loss l9
docs/api.md:1: the error table has no row | 503 | `busy` |
docs/deploy.md:1: the flag --bind is not documented
docs/deploy.md:3: core/old_loss.c does not exist
Dockerfile:2: image lossd:latest: every image tag must be lossd:1.2.3"""


def self_test():
    """Runs the checks on a small repository with known faults; exact output expected."""
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        for rel, text in SELF_TEST_FILES.items():
            os.makedirs(os.path.join(d, os.path.dirname(rel)), exist_ok=True)
            with open(os.path.join(d, rel), "w") as f:
                f.write(text)
        subprocess.run(["git", "init", "-q", d], check=True)
        subprocess.run(["git", "-C", d, "add", "-A"], check=True)
        r = subprocess.run([sys.executable, os.path.abspath(__file__), d], capture_output=True,
                           text=True)
    got = [line for line in r.stdout.splitlines() if not line.startswith("check_docs:")]
    want = SELF_TEST_EXPECT.splitlines()
    if r.returncode != 1 or sorted(got) != sorted(want):
        print("self-test failed; got:\n" + "\n".join(got) + "\nwanted:\n" + "\n".join(want))
        return 1
    print(f"check_docs self-test: {len(want)} planted faults found, nothing else")
    return 0


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    for rel in FILES:
        if rel.startswith(SKIP_DIRS) and not rel.endswith(".md"):
            continue
        try:
            text = read(rel)
        except (UnicodeDecodeError, IsADirectoryError):
            continue
        if rel.endswith(".md"):
            check_links(rel, text)
        check_texts(rel, texts_of(rel, text))
    check_coverage()
    check_image_tags()
    for p in problems:
        print(p)
    print(f"check_docs: {len(FILES)} files, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
