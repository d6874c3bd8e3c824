#!/usr/bin/env python3
"""The README's examples, run as printed.

Every `./build/capsim ...` command in the README's code blocks runs, in the README's order,
from a scratch folder laid out like a checkout (build/capsim and workloads/ are links to the
real ones), and must exit 0. Commands that are fragments ("...") or read the user's own
benchmark file are listed as skipped. Then the README's python blocks run there, each with
what the commands before it wrote: a block that imports pandas or matplotlib runs when
python3 has them (./setup.sh test installs them), and a block followed by "prints `TEXT`"
must print TEXT. The answers the README quotes for its capacity examples are checked in
the commands' output.

usage: test_readme.py PATH/TO/capsim SOURCE_DIR
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap

# Commands the README shows but that cannot run here, by a piece of their text.
SKIP = {
    "...": "a fragment of an earlier command",
    "--data results.json": "reads the user's own benchmark results",
}

# What the README says a command answers, by a piece of the command's text.
ANSWERS = {
    "--out results/cap-trace": "meets the SLOs (95% confidence) up to   speedup 2.375 (13.13 req/s)",
    "--out results/fleet": "answer: 4 replicas (4 GPUs), 9.96 USD/h, 0.2374 USD per million output tokens",
}


def commands(lines):
    """(line number, command) of every ./build/capsim line of an indented code block."""
    out, cmd, start = [], None, 0
    for n, line in enumerate(lines, 1):
        text = line.strip()
        if cmd is None:
            if line.startswith("    ") and text.startswith("./build/capsim "):
                cmd, start = "", n
            else:
                continue
        cmd += text[:-1].rstrip() + " " if text.endswith("\\") else text
        if not text.endswith("\\"):
            out.append((start, re.sub(r"\s+#.*$", "", cmd)))
            cmd = None
    return out


def python_blocks(lines):
    """(line number, code, what it prints or None) of every ```python block."""
    out, i = [], 0
    while i < len(lines):
        if lines[i].strip() == "```python":
            start, body = i + 1, []
            i += 1
            while lines[i].strip() != "```":
                body.append(lines[i])
                i += 1
            after = " ".join(l.strip() for l in lines[i + 1:i + 4])
            m = re.match(r"prints `([^`]*)`", after)
            out.append((start, textwrap.dedent("".join(body)), m.group(1) if m else None))
        i += 1
    return out


def main():
    capsim, src = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    lines = open(os.path.join(src, "README.md"), encoding="utf-8").readlines()
    scratch = tempfile.mkdtemp()
    failed, ran = [], 0
    try:
        os.mkdir(os.path.join(scratch, "build"))
        os.symlink(capsim, os.path.join(scratch, "build", "capsim"))
        os.symlink(os.path.join(src, "workloads"), os.path.join(scratch, "workloads"))
        env = dict(os.environ, CAPSIM_PROGRESS="off")
        for n, cmd in commands(lines):
            why = next((r for k, r in SKIP.items() if k in cmd), None)
            if why:
                print(f"README.md:{n}: skipped ({why}): {cmd}")
                continue
            p = subprocess.run(["bash", "-c", cmd], cwd=scratch, env=env, capture_output=True,
                               text=True, timeout=600)
            ran += 1
            if p.returncode != 0:
                failed.append(f"README.md:{n}: exit {p.returncode}: {cmd}\n  {p.stderr.strip()[-400:]}")
            for key, answer in ANSWERS.items():
                if key in cmd and answer not in p.stdout:
                    failed.append(f"README.md:{n}: the README says it answers '{answer}'; it printed:\n"
                                  + p.stdout[-800:])
        missing = [k for k in ANSWERS if not any(k in c for _, c in commands(lines))]
        failed += [f"README.md: no command with '{k}' (the test's answers are stale)" for k in missing]
        try:
            import matplotlib  # noqa: F401
            import pandas  # noqa: F401
            have_pandas = True
        except ImportError:
            have_pandas = False
        for n, code, prints in python_blocks(lines):
            if not have_pandas and re.search(r"^import (pandas|matplotlib)", code, re.M):
                print(f"README.md:{n}: python block skipped: pandas or matplotlib not installed")
                continue
            p = subprocess.run([sys.executable, "-c", code], cwd=scratch, capture_output=True,
                               text=True, timeout=300)
            ran += 1
            if p.returncode != 0:
                failed.append(f"README.md:{n}: python block failed:\n  {p.stderr.strip()[-600:]}")
            elif prints is not None and p.stdout.strip() != prints:
                failed.append(f"README.md:{n}: the README says it prints '{prints}'; it printed "
                              f"'{p.stdout.strip()}'")
        if os.path.exists(os.path.join(scratch, "results", "sweep")) and have_pandas:
            if not os.path.getsize(os.path.join(scratch, "results", "sweep", "p99_ttft.png")):
                failed.append("the pandas block wrote an empty results/sweep/p99_ttft.png")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    for f in failed:
        print("FAIL " + f)
    print(f"readme: {ran} examples run, {len(failed)} failed")
    return 1 if failed or ran == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
