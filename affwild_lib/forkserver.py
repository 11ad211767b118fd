"""A warm ``affwild``: one process that has imported Keras and the library forks a child per
command, so a pipeline of many stages pays TensorFlow's import once rather than once a stage.

    python -m affwild_lib.forkserver run dvc repro   # what `make book` and the pipeline test do
    python -m affwild_lib.forkserver serve SOCKET    # or by hand: serve until SIGTERM,
    AFFWILD_WARM=SOCKET dvc repro                    # and each `affwild ...` stage is a fork

Of a ``ci``-profile stage's 11 s, about 5 s are the interpreter starting and importing Keras and
TensorFlow (``benchmarks/README.md``, "CI time"); the pipeline has 29 stages that train a model.

The client is :func:`affwild_lib.cli.main` itself: when ``AFFWILD_WARM`` names a socket, it
sends the server its arguments, working folder, environment and its three standard file
descriptors (``SCM_RIGHTS``); the server forks; the child takes them over, runs the command
through the same :func:`affwild_lib.cli.main` a fresh process would, and reports the exit
status, which the client exits with. Ctrl-C or SIGTERM to the client is passed to the child.
The client runs the command itself when there is no server, or when the server would not run
it as a fresh process would: another Keras backend, another copy of the library, or library
files changed since the server imported them.

Forking after the import is safe here: TensorFlow starts no thread when imported (it does at
its first operation, in the child), and the two threads the import leaves (OpenBLAS's pool,
pyarrow's jemalloc) register fork handlers.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import sys
from pathlib import Path

#: What the server imports before it forks: what the training commands load (the library first:
#: it quiets TensorFlow's start-up lines, affwild_lib._quiet).
PRELOAD = ("affwild_lib.cli", "keras", "affwild_lib.train", "affwild_lib.transfer",
           "affwild_lib.pretrain", "affwild_lib.engine", "affwild_lib.models.cnn_rnn",
           "affwild_lib.models.registry", "affwild_lib.trained", "affwild_lib.plots")
ENV = "AFFWILD_WARM"


def fingerprint() -> dict:
    """What must match between client and server: the library's folder, every source file's
    size and modification time, and the Keras backend."""
    root = Path(__file__).resolve().parent
    files = sorted(root.rglob("*.py"))
    stamp = [(str(f.relative_to(root)), f.stat().st_size, f.stat().st_mtime_ns) for f in files]
    return {"library": str(root), "files": stamp,
            "backend": os.environ.get("KERAS_BACKEND", "tensorflow")}


# --------------------------------------------------------------------------------------------
# The client: cli.main


def delegate(path: str, argv: list[str]) -> int | None:
    """Run ``argv`` (``sys.argv``) in a fork of the server at ``path``; its exit status, or
    None where this process should run the command itself."""
    try:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(5)
        sock.connect(path)
    except OSError:
        return None
    with sock:
        request = {"argv": list(argv), "cwd": os.getcwd(), "env": dict(os.environ),
                   "fingerprint": fingerprint()}
        try:
            socket.send_fds(sock, [json.dumps(request).encode() + b"\n"], [0, 1, 2])
            sock.settimeout(None)
            reply = sock.makefile("r")
            first = json.loads(reply.readline() or "{}")
        except (OSError, ValueError):
            return None
        if "pid" not in first:  # refused: not the same library or backend
            return None
        child = int(first["pid"])

        def forward(signum, _frame):
            try:
                os.kill(child, signum)
            except ProcessLookupError:
                pass

        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, forward)
        try:
            last = json.loads(reply.readline() or "{}")
        except (OSError, ValueError):
            last = {}
    if "exit" not in last:
        print(f"affwild: error: the warm process running this command ({ENV}={path}) ended "
              "without an exit status", file=sys.stderr)
        return 1
    return int(last["exit"])


# --------------------------------------------------------------------------------------------
# The server


def _run_child(conn: socket.socket, listener: socket.socket, request: dict, fds: list[int]) -> None:
    """In the forked child: become the client's process, run its command, report, exit."""
    listener.close()
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the server ignores it; commands wait on theirs
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    os.environ.pop(ENV, None)  # its own subprocesses start cold unless they ask again
    sys.argv = list(request["argv"])
    conn.sendall(json.dumps({"pid": os.getpid()}).encode() + b"\n")
    from .cli import main

    try:
        code = main(sys.argv[1:])
    except SystemExit as stop:  # argparse's exit 2, an explicit sys.exit
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    except BaseException:  # what a fresh process would print, then its status
        import traceback

        traceback.print_exc()
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    try:
        conn.sendall(json.dumps({"exit": int(code or 0)}).encode() + b"\n")
    finally:
        os._exit(int(code or 0))


def serve(path: str) -> None:
    """Import :data:`PRELOAD`, then fork a child per request on the Unix socket ``path`` until
    SIGTERM or the socket file is removed."""
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)
    mine = json.loads(json.dumps(fingerprint()))  # as a request carries it (lists, not tuples)
    Path(path).unlink(missing_ok=True)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(8)
    listener.settimeout(1.0)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"affwild: warm server on {path} (pid {os.getpid()})", file=sys.stderr, flush=True)
    try:
        while Path(path).exists():
            try:
                conn, _ = listener.accept()
            except socket.timeout:
                continue
            with conn:
                conn.settimeout(10)
                try:
                    data, fds, _, _ = socket.recv_fds(conn, 1 << 22, 3)
                    while not data.endswith(b"\n"):  # a large environment comes in pieces
                        more = conn.recv(1 << 22)
                        if not more:
                            break
                        data += more
                    request = json.loads(data)
                except (OSError, ValueError):
                    continue
                if request.get("fingerprint") != mine or len(fds) != 3:
                    conn.sendall(b'{"refused": "another library or backend"}\n')
                    for fd in fds:
                        os.close(fd)
                    continue
                sys.stdout.flush()
                sys.stderr.flush()
                if os.fork() == 0:
                    conn.settimeout(None)
                    _run_child(conn, listener, request, fds)
                for fd in fds:
                    os.close(fd)
    finally:
        listener.close()
        Path(path).unlink(missing_ok=True)


def run(command: list[str]) -> int:
    """Run ``command`` (``dvc repro``) with a warm server beside it: started now, in the
    background (the first stages run cold while it imports), stopped when the command ends."""
    import shutil
    import subprocess
    import tempfile

    from .parallel import end

    folder = tempfile.mkdtemp(prefix="affwild-warm-")
    path = str(Path(folder) / "socket")
    server = subprocess.Popen([sys.executable, "-m", "affwild_lib.forkserver", "serve", path],
                              stdout=subprocess.DEVNULL)
    try:
        return subprocess.run(command, env={**os.environ, ENV: path}).returncode
    except KeyboardInterrupt:
        return 130
    finally:
        end(server)
        shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m affwild_lib.forkserver",
                                     description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    one = sub.add_parser("serve", help="serve on SOCKET until SIGTERM or the socket file goes")
    one.add_argument("socket")
    two = sub.add_parser("run", help="run COMMAND (e.g. dvc repro) with a warm server beside it")
    two.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    if args.mode == "serve":
        serve(args.socket)
        return 0
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("run needs a COMMAND")
    return run(command)


if __name__ == "__main__":
    sys.exit(main())
