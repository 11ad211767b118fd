"""scripts/bootstrap.sh (what `make` runs first) explains what is missing instead of failing
obscurely. Each case stops before pip, so these tests need no network and take milliseconds."""
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "bootstrap.sh"


def bootstrap(tmp_path, python, venv=".venv"):
    env = {**os.environ, "PYTHON": str(python), "VENV": str(venv)}
    return subprocess.run(["bash", str(SCRIPT)], cwd=tmp_path, env=env, capture_output=True, text=True)


def fake_python(tmp_path, version_ok: bool, has_venv: bool = True) -> Path:
    """A stand-in interpreter answering the script's three probes."""
    exe = tmp_path / "python-fake"
    exe.write_text(
        "#!/usr/bin/env bash\n"
        'case "$*" in\n'
        f'  *"import sys; sys.exit"*) exit {0 if version_ok else 1} ;;\n'
        f'  *"import venv"*) exit {0 if has_venv else 1} ;;\n'
        '  --version) echo "Python 3.8.10" ;;\n'
        "esac\n"
    )
    exe.chmod(0o755)
    return exe


def test_missing_python_is_named_with_the_fix(tmp_path):
    proc = bootstrap(tmp_path, tmp_path / "no-such-python3")
    assert proc.returncode == 1
    assert "was not found" in proc.stderr and "apt-get install python3" in proc.stderr


def test_unsupported_python_version_is_refused(tmp_path):
    proc = bootstrap(tmp_path, fake_python(tmp_path, version_ok=False))
    assert proc.returncode == 1
    assert "Python 3.8.10 is not supported" in proc.stderr and "3.11" in proc.stderr


def test_python_without_venv_module(tmp_path):
    proc = bootstrap(tmp_path, fake_python(tmp_path, version_ok=True, has_venv=False))
    assert proc.returncode == 1 and "python3-venv" in proc.stderr


def test_broken_venv_says_how_to_fix_it(tmp_path):
    broken = tmp_path / ".venv" / "bin"
    broken.mkdir(parents=True)
    (broken / "python").symlink_to(tmp_path / "gone" / "python3.11")  # interpreter removed
    proc = bootstrap(tmp_path, "python3")
    assert proc.returncode == 1
    assert "is broken" in proc.stderr and "rm -rf .venv" in proc.stderr
    assert broken.exists(), "bootstrap must not delete the user's folder by itself"
