"""Stored notebooks are clean (no outputs), each has one `parameters` cell, and the
parameters that params.yaml injects exist in that cell (papermill would add unknown ones
silently, hiding a typo)."""
import json
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert NOTEBOOKS, "notebooks/ holds no .ipynb"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_without_outputs(path):
    nb = json.loads(path.read_text())
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            assert not cell.get("outputs"), f"{path.name} cell {i} has outputs"
            assert cell.get("execution_count") is None, f"{path.name} cell {i} has an execution count"


def _parameter_cells(nb):
    return [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_valid_nbformat_with_a_unique_id_per_cell(path):
    """nbformat 4.5 wants an id on every cell (a missing one is a warning now, an error later)."""
    import nbformat

    ids = [cell.get("id") for cell in json.loads(path.read_text())["cells"]]  # as stored: reads() fills gaps
    assert all(ids) and len(set(ids)) == len(ids), f"{path.name}: cells without an id, or ids repeated"
    nbformat.validate(nbformat.reads(path.read_text(), as_version=4))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_one_parameters_cell_and_project_kernel(path):
    nb = json.loads(path.read_text())
    assert len(_parameter_cells(nb)) == 1, f"{path.name}: expected exactly one cell tagged parameters"
    assert nb["metadata"]["kernelspec"]["name"] == "affwild"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_injected_parameters_exist_in_the_cell(path):
    from affwild_lib.notebooks import parameter_names

    defined = parameter_names(path)
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    assert "profile" in defined
    for profile, values in params["profiles"].items():
        injected = set(values.get("notebooks", {}).get(path.stem, {}))
        missing = injected - defined
        assert not missing, f"params.yaml profile {profile} sets {sorted(missing)}, not in {path.name}"


def test_every_notebook_is_a_pipeline_stage_and_a_chapter():
    dvc = yaml.safe_load((ROOT / "dvc.yaml").read_text())
    toc = (ROOT / "_toc.yml").read_text()
    cmds = " ".join(stage.get("cmd") or stage["do"]["cmd"] for stage in dvc["stages"].values())
    for path in NOTEBOOKS:
        assert f"notebooks/{path.name}" in cmds, f"no dvc stage executes {path.name}"
        assert f"book/executed/{path.stem}" in toc, f"{path.name} is not in _toc.yml"


def test_no_code_cell_of_more_than_five_lines_is_repeated_between_notebooks():
    """Issue 19: what several chapters need lives in the library (affwild_lib.book), not in
    copies of a cell; a repeated cell is a function waiting to be written."""
    seen: dict[str, str] = {}
    repeated = []
    for path in NOTEBOOKS:
        for i, cell in enumerate(json.loads(path.read_text())["cells"]):
            lines = [l.rstrip() for l in "".join(cell["source"]).splitlines() if l.strip()]
            if cell["cell_type"] != "code" or len(lines) <= 5:
                continue
            key = "\n".join(lines)
            if key in seen and seen[key] != path.name:
                repeated.append(f"{path.name} cell {i} repeats a cell of {seen[key]}")
            seen.setdefault(key, path.name)
    assert not repeated, repeated


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if not p.name.startswith("09")], ids=lambda p: p.name)
def test_a_chapters_setup_cell_is_hidden_in_the_book(path):
    """The first cell after the parameters only sets up (imports, the theme, book.chapter()):
    the book shows its output (the line saying what the numbers are), not its code (tag
    remove-input), so a page opens with the paper; the parameter cells are the runner's to hide
    (notebooks.present). Chapter 09's first cell loads the weights a reader will use: it stays."""
    cells = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
    assert "parameters" in cells[0]["metadata"].get("tags", []), path.name
    assert "remove-input" in cells[1]["metadata"].get("tags", []), path.name


@pytest.mark.parametrize("stem", ["02_annotation_and_preprocessing", "04_cnn_ablations", "05_affwildnet"])
def test_try_this_gives_commands_that_parse_and_their_measured_time(stem):
    """Issue 23, item 11: a chapter ends with "Try this": commands on the tiny profile that
    test the chapter's explanation, with the time they took and what to look at. Each command
    is read by the real parser, so a renamed option fails here, not in a reader's terminal."""
    import re
    import shlex

    from affwild_lib.cli import build_parser

    cells = json.loads((ROOT / "notebooks" / f"{stem}.ipynb").read_text())["cells"]
    text = "".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    assert "## Try this" in text, stem
    section = text.split("## Try this", 1)[1]
    commands = re.findall(r"^\$ (affwild .+)$", section, flags=re.M)
    assert commands, stem
    for command in commands:
        build_parser().parse_args(shlex.split(command)[1:])  # exits 2 on a bad option
        assert "--out try/" in command, command  # beside the pipeline's outputs, never over them
    assert re.search(r"took [\d.]+ s", section) and "compare" in section, stem


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_a_chapter_says_in_lab_what_only_the_book_renders(path):
    """Issue 24: in JupyterLab a glued value shows as its name and a citation as its key; a note
    after the title says so, tagged remove-cell so that the book (which renders both) drops it."""
    cells = json.loads(path.read_text())["cells"]
    notes = [c for c in cells if c["cell_type"] == "markdown"
             and "You are reading this chapter in JupyterLab" in "".join(c["source"])]
    assert len(notes) == 1 and "remove-cell" in notes[0]["metadata"].get("tags", []), path.name
    assert cells.index(notes[0]) == 1, f"{path.name}: the note belongs right after the title"
