"""Execute a chapter notebook with papermill, parameters taken from ``params.yaml``.

The same notebook serves CI (tiny profile) and the real run (paper profile) without edits, as
in pymc-examples: papermill injects the active profile's values for that notebook after the cell
tagged ``parameters``. The executed copy is written atomically (temporary file, then rename), so
an interrupted run never leaves a half-executed notebook that DVC or the book would take as done.

Usage (what dvc.yaml runs)::

    python -m affwild_lib.notebooks notebooks/00_overview.ipynb book/executed/00_overview.ipynb
"""
from __future__ import annotations

import argparse
import ast
import json
import sys
from pathlib import Path

from .atomic import write_file
from .config import profile_params, repo_root

KERNEL = "affwild"  # installed into .venv by scripts/bootstrap.sh


def parameter_names(notebook: Path) -> set[str]:
    """The names assigned in the notebook's cell tagged ``parameters``."""
    cells = json.loads(Path(notebook).read_text(encoding="utf-8"))["cells"]
    source = "".join(next(c["source"] for c in cells
                          if "parameters" in c.get("metadata", {}).get("tags", [])))
    return {t.id for node in ast.parse(source).body if isinstance(node, ast.Assign)
            for t in node.targets if isinstance(t, ast.Name)}


def notebook_parameters(notebook: Path, profile: str | None = None) -> dict:
    """The parameters papermill injects: the profile's name, the profile-wide settings the
    notebook declares (such as ``data_root``), and the profile's block for this notebook."""
    name, params = profile_params(profile)
    declared = parameter_names(notebook)
    values = {k: v for k, v in params.items() if k in declared and not isinstance(v, dict)}
    values.update(params.get("notebooks", {}).get(notebook.stem, {}))
    values["profile"] = name
    return values


def run(notebook: Path, out: Path, profile: str | None = None, kernel: str = KERNEL) -> Path:
    """Execute ``notebook`` into ``out``; raises papermill's error if a cell fails."""
    import papermill as pm  # heavy import: only when a notebook is run

    notebook, out = Path(notebook), Path(out)
    params = notebook_parameters(notebook, profile)
    # papermill saves the notebook as it goes: into a temporary file, moved into place at the end
    write_file(out, lambda tmp: pm.execute_notebook(
        str(notebook), str(tmp), parameters=params, kernel_name=kernel,
        cwd=str(repo_root()), progress_bar=False, report_mode=False,
        # C-level logs (TensorFlow's start-up lines on stderr) go to this process's
        # stderr, the DVC log, rather than into the chapter; Python output is unaffected
        extra_arguments=["--IPKernelApp.capture_fd_output=False"],
    ), keep_suffix=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m affwild_lib.notebooks",
        description="Execute a chapter notebook with the active profile's parameters from params.yaml.",
    )
    parser.add_argument("notebook", type=Path, help="the stored notebook, e.g. notebooks/00_overview.ipynb")
    parser.add_argument("out", type=Path, help="where the executed copy goes, e.g. book/executed/00_overview.ipynb")
    parser.add_argument("--profile", help="override the profile named in params.yaml")
    parser.add_argument("--kernel", default=KERNEL, help=f"Jupyter kernel name (default: {KERNEL})")
    args = parser.parse_args(argv)
    if not args.notebook.is_file():
        parser.error(f"no such notebook: {args.notebook}")
    run(args.notebook, args.out, args.profile, args.kernel)
    print(f"executed {args.notebook} -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
