"""JupyterLab as ``make lab`` starts it, for students rerunning chapters (issue 24).

- The chapters' Markdown is MyST: ``jupyterlab-myst`` (pinned with JupyterLab) renders its
  admonitions, maths and roles in Lab. Roles that need the book stay as their names: a citation
  shows its key (no bibliography outside the book), a glued value its name.
- The project's Lab settings, ``lab/overrides.json``: no "official Jupyter news" pop-up, and a
  new notebook starts the default kernel without asking. The kernel ``Python (affwild)`` (the
  one ``scripts/bootstrap.sh`` registers) is the server's default.
- The repository is Lab's root, so a chapter finds ``params.yaml`` and the pipeline's outputs
  as it does under papermill; the file browser opens on ``notebooks/``, and Lab on
  :data:`START`, which says in what order to read and how to change a chapter's parameters.

    python -m affwild_lib.lab            # what `make lab` runs (the browser opens)
"""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

#: The page Lab opens on, relative to the repository.
START = "lab/start_here.ipynb"


def command(root: Path, port: int | None = None, token: str | None = None,
            browser: bool = True) -> list[str]:
    """``jupyter lab`` with the project's settings, rooted at the repository ``root``."""
    root = Path(root).resolve()
    args = [sys.executable, "-m", "jupyterlab",
            f"--ServerApp.root_dir={root}",
            "--FileContentsManager.preferred_dir=notebooks",
            f"--LabApp.app_settings_dir={root / 'lab'}",
            "--MappingKernelManager.default_kernel_name=affwild",
            f"--LabApp.default_url=/lab/tree/{START}"]
    if port is not None:
        args += ["--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0"]
    if token is not None:
        args.append(f"--IdentityProvider.token={token}")
    if not browser:
        args.append("--no-browser")
    if hasattr(os, "getuid") and os.getuid() == 0:  # Jupyter refuses root unless told (containers, CI)
        args.append("--allow-root")
    return args


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running(root: Path, timeout: float = 120.0, expose_app: bool = False, autosave: bool = True,
            env: dict | None = None):
    """Lab on a free loopback port, without a browser, in fresh user settings (so only the
    project's apply); yields its URL with the token; stopped on exit. ``autosave=False``: a
    test's run leaves the notebooks as they are. ``env``: the server's (and so its kernels')
    environment, default this process's."""
    import tempfile
    import urllib.request

    from .parallel import end

    port, token = free_port(), "affwild-" + os.urandom(8).hex()
    args = command(root, port=port, token=token, browser=False)
    if expose_app:  # window.jupyterapp, for a test to drive Lab's own commands
        args.append("--LabApp.expose_app_in_browser=True")
    with tempfile.TemporaryDirectory() as user:
        if not autosave:
            plugin = Path(user) / "settings" / "@jupyterlab" / "docmanager-extension"
            plugin.mkdir(parents=True)
            (plugin / "plugin.jupyterlab-settings").write_text('{"autosave": false}')
        env = {**(os.environ if env is None else env), "JUPYTERLAB_SETTINGS_DIR": str(Path(user) / "settings"),
               "JUPYTERLAB_WORKSPACES_DIR": str(Path(user) / "workspaces"),
               "JUPYTER_RUNTIME_DIR": str(Path(user) / "runtime")}
        log = open(Path(user) / "lab.log", "w")
        proc = subprocess.Popen(args, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + timeout
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"jupyter lab exited ({proc.returncode}):\n"
                                       + (Path(user) / "lab.log").read_text()[-3000:])
                try:
                    with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2):
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"jupyter lab did not answer on {url} in {timeout:.0f} s")
                    time.sleep(0.5)
            yield url, token
        finally:
            end(proc, timeout=20)
            log.close()


#: Runs in Lab's page: what a reader would see wrong in the open notebook.
_CHECK = r"""
() => {
  const out = [];
  const panel = document.querySelector(".jp-NotebookPanel:not(.lm-mod-hidden)") || document;
  const cells = [...panel.querySelectorAll(".jp-MarkdownCell .jp-RenderedMarkdown, .jp-MarkdownCell .jp-RenderedMySTMarkdown, .jp-MarkdownCell .myst")];
  const text = cells.map(c => c.innerText).join("\n");
  for (const raw of ["{cite:", "{glue", "{doc}", "{numref}", "```{"])
    if (text.includes(raw)) out.push(`MyST printed raw: "${raw}"`);
  if (document.body.innerText.includes("official Jupyter news")) out.push("the Jupyter news pop-up is showing");
  return {problems: out, markdown_cells: cells.length,
          citations: panel.querySelectorAll(".jp-MarkdownCell cite, .jp-MarkdownCell [title='Citation Not Found']").length};
}
"""


def open_notebook(page, url: str, token: str, path: str, timeout_ms: int = 60000) -> dict:
    """Open ``path`` (relative to the root) in Lab; wait until its Markdown cells are rendered;
    return what :data:`_CHECK` finds: ``problems``, ``markdown_cells``, ``citations``."""
    page.goto(f"{url}/lab/tree/{path}?token={token}")
    page.wait_for_selector(".jp-Notebook .jp-MarkdownCell", timeout=timeout_ms)
    page.wait_for_timeout(2000)  # MyST renders the cells after the notebook shows
    return page.evaluate(_CHECK)


#: Runs in Lab's page (started with ``expose_app``): the open notebook's "Run All", as the Run
#: menu does it, then the cells that raised or did not run.
_RUN_ALL = r"""
async (limit) => {
  const app = window.jupyterapp;
  const panel = app.shell.currentWidget;
  await panel.context.ready;
  await panel.sessionContext.ready;
  const timeout = new Promise((_, fail) => setTimeout(() => fail(new Error("Run All took over " + limit + " ms")), limit));
  await Promise.race([app.commands.execute("notebook:run-all-cells"), timeout]);
  const out = [];
  panel.content.widgets.forEach((cell, i) => {
    if (cell.model.type !== "code") return;
    for (const o of cell.model.outputs.toJSON())
      if (o.output_type === "error") out.push(`cell ${i}: ${o.ename}: ${o.evalue}`);
    if (cell.model.executionCount === null && cell.model.sharedModel.getSource().trim())
      out.push(`cell ${i} did not run`);
  });
  return out;
}
"""


def run_all(page, timeout_ms: int = 300000) -> list[str]:
    """Lab's own Run All on the open notebook (Lab started with ``expose_app``); the cells that
    ended in an error or did not run."""
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
                           " && window.jupyterapp.shell.currentWidget.sessionContext", timeout=60000)
    return page.evaluate(_RUN_ALL, timeout_ms)


def main() -> int:
    from .config import repo_root

    root = repo_root()
    os.chdir(root)
    return subprocess.call(command(root))


if __name__ == "__main__":
    sys.exit(main())
