"""The warm `affwild` (affwild_lib.forkserver): a command run in a fork of it behaves as a fresh
process would (output, exit status, working folder, environment), and anything it cannot run as
such is left to the client."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from affwild_lib import forkserver

pytestmark = pytest.mark.train  # the server imports Keras

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    path = tmp_path_factory.mktemp("warm") / "socket"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"}
    env.pop("AFFWILD_ROOT", None)
    proc = subprocess.Popen([sys.executable, "-m", "affwild_lib.forkserver", "serve", str(path)],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not path.exists():
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
        time.sleep(0.2)
    yield str(path)
    proc.terminate()
    proc.wait(timeout=30)
    assert not path.exists()  # it removes its socket


def cold(*argv, cwd=ROOT, env=None):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})}
    env.pop("AFFWILD_WARM", None)
    return subprocess.run([sys.executable, "-m", "affwild_lib", *argv], cwd=cwd, env=env,
                          capture_output=True, text=True)


def test_a_forked_command_prints_and_exits_as_a_fresh_process(server, capfd):
    assert forkserver.delegate(server, ["affwild", "model-info", "cnn-vggface", "--profile", "tiny"]) == 0
    warm = capfd.readouterr()
    assert warm.out == cold("model-info", "cnn-vggface", "--profile", "tiny").stdout
    assert forkserver.delegate(server, ["affwild", "train", "nosuch"]) == 2  # argparse's status
    assert "invalid choice: 'nosuch'" in capfd.readouterr().err


def test_the_fork_takes_the_clients_folder_and_environment(server, capfd, tmp_path, monkeypatch):
    # another copy's params.yaml (tiny at width 1/8): found from the working folder, or AFFWILD_ROOT
    other = tmp_path / "copy"
    other.mkdir()
    text = (ROOT / "params.yaml").read_text()
    (other / "params.yaml").write_text(text.replace("width: 0.0625                # channels", "width: 0.125                 # channels", 1))
    argv = ["affwild", "model-info", "cnn-vggface", "--profile", "tiny"]
    monkeypatch.delenv("AFFWILD_ROOT", raising=False)
    monkeypatch.chdir(other)
    assert forkserver.delegate(server, argv) == 0
    from_folder = capfd.readouterr().out
    assert from_folder == cold(*argv[1:], cwd=other).stdout
    assert from_folder != cold(*argv[1:]).stdout  # the width changed the model
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("AFFWILD_ROOT", str(other))
    assert forkserver.delegate(server, argv) == 0
    assert capfd.readouterr().out == from_folder


def test_what_it_cannot_run_as_a_fresh_process_is_left_to_the_client(server, tmp_path, monkeypatch):
    assert forkserver.delegate(str(tmp_path / "no-server"), ["affwild", "--version"]) is None
    changed = {**forkserver.fingerprint(), "backend": "jax"}  # another backend, library or file
    monkeypatch.setattr(forkserver, "fingerprint", lambda: changed)
    assert forkserver.delegate(server, ["affwild", "--version"]) is None


def test_cli_main_runs_itself_when_the_server_is_gone(tmp_path):
    env = {**os.environ, "AFFWILD_WARM": str(tmp_path / "gone"), "TF_CPP_MIN_LOG_LEVEL": "2"}
    warm = subprocess.run([sys.executable, "-m", "affwild_lib", "--version"], env=env,
                          capture_output=True, text=True)
    plain = cold("--version")
    assert warm.returncode == plain.returncode == 0 and warm.stdout == plain.stdout
