"""Where things are, and the parameters of the active profile (``params.yaml``).

Notebooks, the CLI and the DVC stages all read their settings through here, so that a
notebook run by papermill under DVC and the same notebook opened by hand in JupyterLab see the
same values.
"""
from __future__ import annotations

import os
from pathlib import Path

import yaml

PROFILES = ("tiny", "ci", "small", "paper", "paper-synth")


def repo_root(start: Path | None = None) -> Path:
    """The repository root: the nearest folder at or above ``start`` that holds params.yaml.

    ``AFFWILD_ROOT`` overrides the search (for a copy of the notebooks outside the repo).
    """
    if os.environ.get("AFFWILD_ROOT"):
        return Path(os.environ["AFFWILD_ROOT"]).resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "params.yaml").is_file():
            return folder
    # Installed elsewhere but run from a checkout: fall back to the package's own checkout.
    pkg_root = Path(__file__).resolve().parent.parent
    if (pkg_root / "params.yaml").is_file():
        return pkg_root
    raise FileNotFoundError(f"no params.yaml at or above {here}; set AFFWILD_ROOT to the repository")


def load_params(root: Path | None = None) -> dict:
    """The whole ``params.yaml``."""
    path = (root or repo_root()) / "params.yaml"
    with open(path, encoding="utf-8") as fh:
        try:
            params = yaml.safe_load(fh)
        except yaml.YAMLError as err:  # one line naming the file and line, not a traceback
            mark = getattr(err, "problem_mark", None)
            where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
            what = getattr(err, "problem", None) or str(err).splitlines()[0]
            raise ValueError(f"{where}: not valid YAML: {what}") from None
    if not isinstance(params, dict) or "profiles" not in params:
        raise ValueError(f"{path}: expected a mapping with 'profile' and 'profiles'")
    return params


def profile_params(profile: str | None = None, root: Path | None = None) -> tuple[str, dict]:
    """(name, parameters) of ``profile``, or of the active profile that params.yaml names."""
    params = load_params(root)
    name = profile or params.get("profile", "tiny")
    profiles = params["profiles"]
    if name not in profiles:
        raise ValueError(f"unknown profile {name!r}; params.yaml defines {sorted(profiles)}")
    return name, profiles[name]


def data_source(data_root) -> str:
    """'synthetic' for our generated data, else 'real': a release folder of ours carries
    ``synth_truth/``, and the folder the generator writes them into (a profile's
    ``data_root``, e.g. ``data/synth``) its ``SYNTHETIC.md``. 'unknown' where the folder is
    not there to tell (a store prepared elsewhere, issue 20): never 'real' by default."""
    root = Path(data_root)
    if not root.is_dir():
        return "unknown"
    synthetic = ((root / "synth_truth").is_dir() or (root / "SYNTHETIC.md").is_file()
                 or (root.parent / "SYNTHETIC.md").is_file())
    return "synthetic" if synthetic else "real"


def git(*args) -> str:
    """``git ARGS`` in the repository, its output stripped; "" where git or a checkout is missing
    (a tarball, a copy): what records of a run (results, the chapters' footers) say of the code."""
    import subprocess

    try:
        return subprocess.run(["git", *args], capture_output=True, text=True, check=True,
                              cwd=repo_root()).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""
