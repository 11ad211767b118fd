"""The `affwild` console script."""
import subprocess
import sys

import pytest

from affwild_lib import __version__
from affwild_lib.cli import main


def test_unknown_subcommand_prints_usage_and_fails(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["no-such-command"])
    assert exc.value.code != 0
    assert "usage: affwild" in capsys.readouterr().err


def test_no_subcommand_prints_help_and_fails(capsys):
    assert main([]) == 2
    assert "usage: affwild" in capsys.readouterr().err


def test_version():
    out = subprocess.run([sys.executable, "-m", "affwild_lib", "--version"],
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == f"affwild {__version__}"
