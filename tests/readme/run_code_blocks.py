#!/usr/bin/env python3
"""Runs the Python (```pycon, doctest style) and JavaScript (```js, `// => value` after each
console.log line) examples of a Markdown file against a live lossd and checks that each
prints what the file shows.

Usage: run_code_blocks.py README.md URL [--no-js]
Python blocks run in this interpreter (so `import lossd` must work: PYTHONPATH, or a venv
where clients/python is installed); JS blocks run with node, `from "lossd"` pointing at this
checkout's clients/js. http://localhost:8080 in the examples is replaced by URL.
"""
import doctest
import os
import re
import subprocess
import sys
import tempfile

readme, url = sys.argv[1], sys.argv[2].rstrip("/")
root = os.path.dirname(os.path.abspath(readme))
text = open(readme).read()
blocks = re.findall(r"^```(pycon|js)\n(.*?)^```", text, re.S | re.M)
checked = failed = 0

for lang, code in blocks:
    code = code.replace("http://localhost:8080", url)
    if lang == "pycon":
        test = doctest.DocTestParser().get_doctest(code, {}, "README", readme, 0)
        runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
        runner.run(test)
        failed += runner.failures
        checked += 1
    elif "--no-js" not in sys.argv:
        js = code.replace('from "lossd"', 'from "' + "file://" + os.path.join(root, "clients", "js", "index.js") + '"')
        want = [m.group(1).strip() for m in re.finditer(r"console\.log\(.*\);\s*// => (.*)$", js, re.M)]
        with tempfile.NamedTemporaryFile("w", suffix=".mjs", delete=False) as f:
            f.write(js)
        r = subprocess.run(["node", f.name], capture_output=True, text=True, timeout=60)
        os.unlink(f.name)
        got = r.stdout.strip().splitlines()
        checked += 1
        if r.returncode != 0 or got != want:
            failed += 1
            print(f"JS example MISMATCH:\n  want: {want}\n  got:  {got}\n{r.stderr}")
print(f"{checked} README code examples, {failed} failed")
sys.exit(1 if failed or checked == 0 else 0)
