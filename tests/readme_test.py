#!/usr/bin/env python3
"""The README as a test: every ```sh block of README.md runs here, as written, on loopback.

Each block is known by its first line (BLOCKS below) and says how it runs; a block the table does
not know fails the test, so a new example in the README is either run or given a reason why not.
Only what a reader on one machine would change is substituted: the other machines' names become
the master this test started, fixed listen ports become port 0, system paths (/var/lib/mr,
/etc/mr, /shared, /var/log/apache2) become folders of a temporary directory, and the sizes of
TeraSort's and the log generator's inputs shrink. The commands, flags and relative paths run as printed, each block in its
own fresh directory outside the tree that holds what the README assumes a checkout has:
`build/client/mr`, `scripts/`, `deploy/`, `jobs/public/`, `jobs/examples/` (links), plus `books/`
(sample text); `mr` is first on PATH. The plugin is built there from the public header alone.

Usage: MR_BIN=build/client/mr MR_SOURCE_DIR=. tests/readme_test.py [-v]
"""
import gzip
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

SRC = os.path.abspath(os.environ.get("MR_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..")))
MR = os.path.abspath(os.environ.get("MR_BIN", os.path.join(SRC, "build/client/mr")))
VERBOSE = "-v" in sys.argv[1:]
BLOCK_TIMEOUT = 600  # seconds; a block that takes longer fails


def sh_blocks(readme):
    """(line number of the block's first line, its text) for every ```sh block."""
    blocks, lines, i = [], readme.split("\n"), 0
    while i < len(lines):
        if lines[i].strip() == "```sh":
            j = i + 1
            while lines[j].strip() != "```":
                j += 1
            blocks.append((i + 2, "\n".join(lines[i + 1:j])))
            i = j
        i += 1
    return blocks


def commands(text):
    """The block's commands: continuation lines joined, comment-only and empty lines dropped."""
    out, cur = [], ""
    for line in text.split("\n"):
        if cur:
            cur += " " + line.strip()
        else:
            cur = line
        if cur.rstrip().endswith("\\"):
            cur = cur.rstrip()[:-1].rstrip()
            continue
        if cur.strip() and not cur.strip().startswith("#"):
            out.append(cur.strip())
        cur = ""
    return out


class Failure(Exception):
    pass


class Env:
    """One temporary root: the shared fixtures and the stand-ins for system paths."""

    def __init__(self, root):
        self.root = root
        self.sys = os.path.join(root, "sys")
        self.bin = os.path.join(root, "bin")
        os.makedirs(self.bin)
        os.symlink(MR, os.path.join(self.bin, "mr"))
        self.books = os.path.join(root, "books")
        os.makedirs(self.books)
        for i in range(3):
            with open(os.path.join(self.books, f"book-{i}.txt"), "w") as f:
                subprocess.run([sys.executable, os.path.join(SRC, "scripts/sample_text.py"), "0.3"], stdout=f,
                               check=True)
        for d in ("var/lib/mr", "etc/mr", "shared", "var/log/apache2"):
            os.makedirs(os.path.join(self.sys, d))
        os.symlink(self.books, os.path.join(self.sys, "shared/books"))
        logs = os.path.join(self.sys, "var/log/apache2")
        for name, seed in (("access.log", 1), ("access.log.1", 2)):
            with open(os.path.join(logs, name), "w") as f:
                subprocess.run([sys.executable, os.path.join(SRC, "scripts/gen_logs.py"), "0.3", "--seed",
                                str(seed)], stdout=f, check=True)
        with open(os.path.join(logs, "access.log.1"), "rb") as f, \
                gzip.open(os.path.join(logs, "access.log.2.gz"), "wb") as g:
            g.write(f.read())
        self.vars = dict(os.environ)
        self.vars.pop("MR_TOKEN", None)
        self.vars["PATH"] = self.bin + ":" + self.vars["PATH"]
        self.vars["TMPDIR"] = root
        self.count = 0

    def workdir(self):
        """A fresh directory laid out like the top of a checkout."""
        self.count += 1
        d = os.path.join(self.root, f"block-{self.count}")
        os.makedirs(os.path.join(d, "build/client"))
        os.symlink(MR, os.path.join(d, "build/client/mr"))
        for sub in ("scripts", "deploy", "bench"):
            os.symlink(os.path.join(SRC, sub), os.path.join(d, sub))
        os.makedirs(os.path.join(d, "jobs"))
        for sub in ("public", "examples"):
            os.symlink(os.path.join(SRC, "jobs", sub), os.path.join(d, "jobs", sub))
        os.symlink(self.books, os.path.join(d, "books"))
        return d

    def paths(self, cmd):
        """System paths to their stand-ins; fixed listen ports to port 0."""
        cmd = re.sub(r"(?<![\w./-])/(var/lib/mr|etc/mr|shared|var/log/apache2)(?=/|\s|$)",
                     lambda m: os.path.join(self.sys, m.group(1)), cmd)
        return cmd.replace("0.0.0.0:7070", "127.0.0.1:0").replace("0.0.0.0:0", "127.0.0.1:0")


def run(env, cwd, cmd, extra_env=None):
    if VERBOSE:
        print(f"    $ {cmd}", flush=True)
    vars_ = dict(env.vars, **(extra_env or {}))
    p = subprocess.run(["bash", "-euo", "pipefail", "-c", cmd], cwd=cwd, env=vars_, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, errors="replace", timeout=BLOCK_TIMEOUT)
    if p.returncode != 0:
        raise Failure(f"`{cmd}` exited {p.returncode}:\n{p.stdout[-4000:]}")
    return p.stdout


def check_outputs(cwd, cmd):
    for out in re.findall(r"(?:^|\s)--?output\s+(\S+)", cmd):
        if not os.path.exists(os.path.join(cwd, out, "_SUCCESS")):
            raise Failure(f"`{cmd}` left no {out}/_SUCCESS")


def run_block(env, text, drop=(), extra_env=None, sizes=()):
    """Runs the block's commands in order in a fresh directory; each must exit 0 and every job
    output it names must have _SUCCESS."""
    cwd = env.workdir()
    for cmd in commands(text):
        if any(d in cmd for d in drop):
            continue
        cmd = env.paths(cmd)
        for old, new in sizes:
            cmd = cmd.replace(old, new)
        run(env, cwd, cmd, extra_env)
        check_outputs(cwd, cmd)
    return cwd


class Daemons:
    """Background processes started by a block; all stopped and reaped on exit."""

    def __init__(self, cwd, env):
        self.cwd, self.env, self.procs = cwd, env, []

    def start(self, cmd):
        if VERBOSE:
            print(f"    $ {cmd} &", flush=True)
        log = open(os.path.join(self.cwd, f"daemon-{len(self.procs)}.log"), "w")
        p = subprocess.Popen(["bash", "-c", "exec env " + cmd], cwd=self.cwd, env=self.env.vars, stdout=log,
                             stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append((p, log))
        return p

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for p, _ in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p, log in self.procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            log.close()


def wait_for(what, check, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise Failure(f"timed out waiting for {what}")


def rpc_address(data_dir, proc):
    def read():
        if proc.poll() is not None:
            raise Failure(f"the master exited with {proc.returncode}")
        try:
            with open(os.path.join(data_dir, "ADDRESS")) as f:
                for line in f:
                    if line.startswith("rpc "):
                        return line.split()[1]
        except FileNotFoundError:
            return None
        return None
    return wait_for("the master's ADDRESS file", read)


def cluster_block(env, text, prelude=(), placeholder=None, expect_workers=None):
    """A block naming machines: `mr master` and `mr worker` lines run in the background (the master's
    address replaces master-host:7070 and 10.0.0.10:7070 in later lines), the rest in order.
    `prelude` commands run first, as if from an earlier block; `placeholder` replaces `...`."""
    cwd = env.workdir()
    master = None
    with Daemons(cwd, env) as daemons:
        for cmd in list(prelude) + commands(text):
            cmd = env.paths(cmd)
            if placeholder is not None:
                cmd = cmd.replace("...", placeholder)
            if master:
                cmd = cmd.replace("master-host:7070", master).replace("10.0.0.10:7070", master)
            if re.match(r"^(\w+=\S+\s+)*mr (master|worker)\b", cmd):
                is_master = " mr master" in " " + cmd
                if is_master and "--http" not in cmd:
                    cmd += " --http 127.0.0.1:0"  # its default dashboard port, 7071, may be taken
                p = daemons.start(cmd)
                if is_master:
                    data_dir = re.search(r"--data-dir\s+(\S+)", cmd).group(1)
                    master = rpc_address(os.path.join(cwd, data_dir), p)
                continue
            run(env, cwd, cmd)
            check_outputs(cwd, cmd)
        if expect_workers:
            token = " --token-file token" if os.path.exists(os.path.join(cwd, "token")) else ""
            wait_for(f"{expect_workers} worker(s) in `mr workers`", lambda: len(
                [l for l in run(env, cwd, f"mr workers --master {master}{token}").split("\n")
                 if "127.0.0.1:" in l]) >= expect_workers)
        for p, _ in daemons.procs:
            if p.poll() is not None:
                raise Failure(f"a background process exited early ({p.returncode}); see {cwd}")


def demo_block(env, text):
    # The demo builds into MR_BUILD_DIR: the tree this test's mr was built in (a no-op build).
    run_block(env, text, drop=("scripts/test.sh",),
              extra_env={"MR_BUILD_DIR": os.path.dirname(os.path.dirname(MR))})


def token_block(env, text):
    run_block(env, text, drop=("chown mr:", "systemctl"))
    with open(os.path.join(env.sys, "etc/mr/users")) as f:
        if f.read().split()[:1] != ["alice"]:
            raise Failure("`mr token new --user alice` added no line for alice to the users file")


def env_files_block(env, text):
    run_block(env, text)
    with open(os.path.join(env.sys, "etc/mr/worker.env")) as f:
        worker_env = f.read()
    for line in ("MR_MASTER=10.0.0.10:7070", "MR_ADVERTISE=10.0.0.11"):
        if line not in worker_env.split("\n"):
            raise Failure(f"the sed line did not set {line} in worker.env:\n{worker_env}")


class Skip(str):
    pass


def skip(reason):
    return lambda env, text: Skip(reason)


# First line of a block -> how it runs. A function returning a Skip skips the block for that
# reason, which the test prints.
BLOCKS = {
    "scripts/demo.sh": demo_block,
    "build/client/mr run --job wordcount": run_block,
    "mr token new token": cluster_block,
    "install -m 755 build/client/mr /usr/bin/mr":
        skip("installs into /usr and /etc/systemd of a real node; deploy_test verifies those units"),
    "mr token new /etc/mr/token": token_block,
    "# mr1: /etc/mr/master.env": env_files_block,
    "systemctl enable --now mr-master":
        skip("systemd on three machines; the multihost tests run the units' ExecStart lines in namespaces"),
    "kubectl create namespace mr":
        skip("needs a Kubernetes cluster; deploy_test checks the manifests (scripts/check_deploy.py)"),
    "mr run --job grep": lambda env, text: run_block(env, text, sizes=(("gen_logs.py 100 ", "gen_logs.py 1 "),)),
    "mr run --job logs --arg by=path": lambda env, text: run_block(
        env, "scripts/gen_logs.py 1 --seed 7 > access.log\n" + text),
    "mr teragen 10m gen --ascii": lambda env, text: run_block(env, text, sizes=(("teragen 10m", "teragen 20k"),)),
    "mr run --job weblog": run_block,
    "cp jobs/examples/wordcount_plugin.cc my_job.cc": run_block,
    "mr run --input books/ --output counts": run_block,
    "printf '#!/bin/sh": run_block,
    "mr streaming -D mapreduce.job.name": run_block,
    "mr run --input events/ --output by-user": lambda env, text: run_block(
        env, "printf 'amy 9 a\\nbob 10 b\\namy 10 c\\n' > events.txt && mkdir -p events && mv events.txt events/\n" + text),
    "MR_FAILPOINTS=": lambda env, text: cluster_block(
        env, text, prelude=["mr master --listen 127.0.0.1:0 --data-dir /var/lib/mr/fp-master"],
        placeholder="--master master-host:7070 --data-dir /var/lib/mr/fp-worker --listen 127.0.0.1:0",
        expect_workers=1),
    "bench/wordcount.sh 1g":
        skip("benchmarks take minutes each on a quiet machine; bench/RESULTS.md has their figures"),
}


def main():
    with open(os.path.join(SRC, "README.md")) as f:
        blocks = sh_blocks(f.read())
    root = tempfile.mkdtemp(prefix="mr-readme-")
    failures, ran, skipped = [], 0, 0
    try:
        env = Env(root)
        for line, text in blocks:
            first = text.split("\n")[0]
            rule = next((fn for prefix, fn in BLOCKS.items() if first.startswith(prefix)), None)
            if rule is None:
                failures.append(f"README.md:{line}: a block this test does not know: {first!r} "
                                f"(add it to BLOCKS in tests/readme_test.py)")
                continue
            started = time.monotonic()
            try:
                reason = rule(env, text)
            except (Failure, subprocess.TimeoutExpired) as e:
                failures.append(f"README.md:{line}: {first!r}: {e}")
                print(f"FAIL README.md:{line} {first}", flush=True)
                continue
            if isinstance(reason, Skip):
                skipped += 1
                print(f"skip README.md:{line} {first} -- {reason}", flush=True)
            else:
                ran += 1
                print(f"ok   README.md:{line} {first} ({time.monotonic() - started:.1f} s)", flush=True)
        unused = [p for p in BLOCKS if not any(t.split("\n")[0].startswith(p) for _, t in blocks)]
        for p in unused:
            failures.append(f"BLOCKS names a block the README no longer has: {p!r}")
    finally:
        if failures and os.environ.get("MR_KEEP_README_TEST"):
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    print(f"{ran} blocks ran, {skipped} skipped, {len(failures)} failed")
    for f in failures:
        print(f, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
