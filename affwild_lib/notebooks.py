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
import os
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

    def execute(tmp):
        pm.execute_notebook(
            str(notebook), str(tmp), parameters=params, kernel_name=kernel,
            cwd=str(repo_root()), progress_bar=False, report_mode=False,
            # C-level logs (TensorFlow's start-up lines on stderr) go to this process's
            # stderr, the DVC log, rather than into the chapter; Python output is unaffected
            # and the kernel's own start-up warnings ("running over TCP without encryption":
            # a loopback kernel that papermill starts and stops) stay out of it too
            extra_arguments=["--IPKernelApp.capture_fd_output=False", "--IPKernelApp.log_level=ERROR"])
        present(Path(tmp), params)

    # papermill saves the notebook as it goes: into a temporary file, moved into place at the end
    write_file(out, execute, keep_suffix=True)
    return out


def provenance(params: dict, seconds: float | None = None, ended: str | None = None) -> dict:
    """What a page was computed from (issue 19): commit, data, profile, time, versions."""
    import datetime
    import platform
    from importlib import metadata

    from .config import data_source, git

    def version(package) -> str | None:
        try:
            return metadata.version(package)
        except metadata.PackageNotFoundError:
            return None

    commit = git("rev-parse", "HEAD")
    # dvc.lock aside: the pipeline that runs this notebook rewrites it as each stage finishes
    changed = [line[3:] for line in git("status", "--porcelain").splitlines() if line[3:] != "dvc.lock"]
    data_root = params.get("data_root")
    return {
        "commit": commit or None, "clean": not changed if commit else None,
        "ended": ended or datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "seconds": seconds, "profile": params.get("profile"),
        "data_root": data_root, "data_source": data_source(repo_root() / data_root) if data_root else None,
        "python": platform.python_version(), "keras": version("keras"), "backend": keras_backend(),
        "tensorflow": version("tensorflow") or version("tensorflow-cpu"), "jax": version("jax"),
        "affwild_lib": version("affwild-lib") or version("affwild_lib")}


def keras_backend() -> str:
    """The backend a Keras process started here would use (``KERAS_BACKEND``, else
    ``keras.json``, else TensorFlow), read without importing Keras."""
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    config = Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras") / "keras.json"
    try:
        return json.loads(config.read_text()).get("backend", "tensorflow")
    except (OSError, ValueError):
        return "tensorflow"


def _says(p: dict) -> str:
    """A provenance record in one Markdown line."""
    commit = (f"commit `{p['commit'][:7]}` ({'clean tree' if p['clean'] else 'tree with uncommitted changes'}"
              ", dvc.lock aside)"
              if p.get("commit") else "no git commit")
    took = f"ran in {p['seconds']:.0f} s" if p.get("seconds") is not None else "run time unknown"
    framework = p["backend"] + (f" {p[p['backend']]}" if p.get(p["backend"]) else "")
    return (f"profile `{p['profile']}`, {p.get('data_source') or 'unknown'} data (`{p.get('data_root')}`); "
            f"{commit}; {p['ended']}; {took}; Python {p['python']}, Keras {p['keras']} on {framework}, "
            f"affwild_lib {p['affwild_lib']}")


def present(path: Path, params: dict) -> None:
    """Shape an executed notebook for the book: the parameter cells (the stored defaults and
    papermill's injected values) are removed from the page and replaced by one box saying what
    the chapter ran with; a footer says what it was computed from (:func:`provenance`), also
    kept in the notebook's metadata (``affwild.provenance``) for the book's "How this book was
    run" page. In JupyterLab the stored notebook is unchanged: every parameter is there."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    cells = nb["cells"]
    meta = nb.get("metadata", {}).get("papermill", {})
    p = provenance(params, meta.get("duration"))
    where = 0
    for i, cell in enumerate(cells):
        tags = cell.setdefault("metadata", {}).setdefault("tags", [])
        if "parameters" in tags or "injected-parameters" in tags:
            if "remove-cell" not in tags:
                tags.append("remove-cell")
            where = i + 1
    shown = ", ".join(f"`{k} = {v!r}`" for k, v in params.items() if k not in ("profile", "data_root"))
    box = (f":::{{note}}\nThis page ran with {{term}}`profile` **{params.get('profile')}** on "
           f"{p.get('data_source') or 'unknown'} data (`{params.get('data_root')}`)"
           + (f"; its parameters: {shown}" if shown else "")
           + ". To change one, edit the notebook's `parameters` cell (JupyterLab: `make lab`) or "
           "the profile in `params.yaml` (the pipeline).\n:::")
    cells.insert(where, {"cell_type": "markdown", "id": "affwild-ran-with",
                         "metadata": {"tags": ["affwild-generated"]}, "source": box})
    cells.append({"cell_type": "markdown", "id": "affwild-provenance",
                  "metadata": {"tags": ["affwild-generated"]},
                  "source": f"---\n*How this page was computed:* {_says(p)}. "
                            "All chapters: [How this book was run](how_this_book_was_run.md)."})
    nb.setdefault("metadata", {})["affwild"] = {"provenance": p}
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


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
