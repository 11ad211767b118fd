"""The whole pipeline on the active profile (tiny by default): `dvc repro` executes every
notebook with papermill and builds the book with warnings as errors; a second run does nothing.

This is the test that makes `make test` execute every chapter. It works in the repository
itself, like `make book`: stages already up to date are not rerun, so after `make book` it
only checks.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
       "DVC_NO_ANALYTICS": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}


def dvc(*args, check=True):
    proc = subprocess.run(["dvc", *args], cwd=ROOT, env=ENV, capture_output=True, text=True)
    if check and proc.returncode != 0:
        pytest.fail(f"dvc {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture(scope="module")
def reproduced():
    assert (ROOT / "data" / "real").is_dir(), "data/real is missing: run the tests with `make test`"
    return dvc("repro")


def test_repro_succeeds_and_status_is_clean(reproduced):
    status = json.loads(dvc("status", "--json").stdout or "{}")
    assert status == {}, f"dvc status is not clean after repro: {status}"


def test_second_repro_runs_no_stage(reproduced):
    again = dvc("repro")
    assert "Running stage" not in again.stdout, again.stdout


def _stage_notebooks():
    import yaml

    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    return sorted(out if isinstance(out, str) else next(iter(out))
                  for s in stages.values() for out in s.get("outs", [])
                  if str(out if isinstance(out, str) else next(iter(out))).endswith(".ipynb"))


@pytest.mark.parametrize("executed", _stage_notebooks())
def test_executed_notebook_has_outputs_and_no_errors(reproduced, executed):
    nb = json.loads((ROOT / executed).read_text())
    outputs = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]
    assert outputs, f"{executed} has no outputs"
    assert not [o for o in outputs if o["output_type"] == "error"], f"{executed} has an error output"
    injected = [c for c in nb["cells"] if "injected-parameters" in c.get("metadata", {}).get("tags", [])]
    assert injected, f"{executed}: papermill injected no parameters"


def test_book_has_the_overview_chapter_with_its_outputs(reproduced):
    index = ROOT / "_build" / "html" / "index.html"
    assert index.is_file()
    page = (ROOT / "_build" / "html" / "book" / "executed" / "00_overview.html").read_text()
    assert "<img" in page, "the overview chapter shows no figure"
    # The glued worked example: the page shows the same CCC the notebook computed.
    nb = json.loads((ROOT / "book" / "executed" / "00_overview.ipynb").read_text())
    glued = [o for c in nb["cells"] for o in c.get("outputs", [])
             if o.get("metadata", {}).get("scrapbook", {}).get("name") == "hand_ccc"]
    assert glued, "the overview notebook glued no hand_ccc"
    record = glued[0]
    value = float(record["data"][record["metadata"]["scrapbook"]["mime_prefix"] + "text/plain"])
    assert f"{value:.3f}" in page


def test_database_chapter_sets_the_paper_beside_ours(reproduced):
    page = (ROOT / "_build" / "html" / "book" / "executed" / "01_aff_wild_database.html").read_text()
    assert "paper (Aff-Wild)" in page and "252 (train) + 46 (test) = 298" in page
    assert "ours (synthetic" in page, "our numbers are not labelled as synthetic"
    assert page.count("<img") >= 4, "Figs. 3-6 and 10 analogues missing"
