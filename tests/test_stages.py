"""The pipeline's definition (dvc.yaml) against the registry: every experiment a stage, every
chapter depending on every experiment it shows. Reads files only (no `dvc repro`)."""
from pathlib import Path

import pytest

from affwild_lib import claims
from affwild_lib.experiments import TRANSFERS, get

ROOT = Path(__file__).resolve().parents[1]


def _stages() -> dict:
    import yaml

    return yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]


@pytest.mark.parametrize("stem,tables,claim_keys", [
    ("03_challenge_baseline", [5, 6, "6x"], ["fatauva-best", "entries-beaten"]),
    ("04_cnn_ablations", [9, 10, 11, "loss", "oversampling"],
     ["vggface-backbone", "landmarks", "mean-annotators", "ccc-loss", "oversampling"]),
    ("05_affwildnet", [12, 13, 14], ["gru-lstm", "cnn-rnn", "beats-baseline", "two-layers", "128-units"]),
    ("06_recola", [15, "15x"], ["recola-prior"]),
    ("07_afew_va", [16, 17, "17x"], ["afewva-prior"]),
    ("08_emotiw", [18], ["emotiw-prior"]),
    ("90_reproduction", [5, 6, "6x", 9, 10, 11, 12, 13, 14, 15, "15x", 16, 17, "17x", 18],
     [c.key for c in claims.CLAIMS]),
])
def test_each_chapter_depends_on_every_experiment_it_shows(stem, tables, claim_keys):
    """The chapters read experiments' outputs: each one they show (tables) or judge (claims)
    must be a DVC dependency, or a retrained experiment would leave the chapter stale."""
    from affwild_lib import results

    deps = _stages()[f"notebook-{stem.replace('_', '-')}"]["deps"]
    shown = set()
    for table in tables:
        shown |= set(results.rows_of(table).values())
    for key in claim_keys:
        shown |= set(claims.get(key).experiments)
    for name in shown:
        outputs = ["metrics.json", "predictions.csv"]
        if get(name).dataset == "affwild":  # the further seeds' predictions, which claims read
            outputs.append("seed_predictions")
        for output in outputs:
            assert f"experiments/{name}/{output}" in deps, f"{stem} does not depend on {name}/{output}"
    source = (ROOT / "notebooks" / f"{stem}.ipynb").read_text()
    for key in claim_keys if stem != "90_reproduction" else []:
        assert f'ch.verdict(\\"{key}\\")' in source, f"{stem} does not show claim {key}"


def test_every_run_depends_on_the_pretraining_it_starts_from():
    """A retrained backbone must retrain what starts from it (issue 17): each train and
    transfer stage depends on pretrained/<its backbone>, unless it starts at random or from
    AffWildNet."""
    stages = _stages()
    rows = {**{n: "pretrained/vgg_face" for n in stages["train-rnn"]["foreach"]},
            **{n: f"pretrained/{i['backbone']}" for n, i in stages["train-cnn"]["foreach"].items()},
            **{n: f"pretrained/{i['backbone']}" for n, i in stages["transfer"]["foreach"].items()}}
    for name, folder in rows.items():
        exp = get(name)
        if exp.init in ("random", "affwildnet"):
            continue
        assert folder == f"pretrained/{exp.backbone}", name
        kind = ("transfer" if name in stages["transfer"]["foreach"] else
                "train-rnn" if exp.is_rnn else "train-cnn")
        assert "pretrained/${item.backbone}" in stages[kind]["do"]["deps"] or (
            folder in stages[kind]["do"]["deps"]), name
    # Sect. 4.2's four, and FATAUVA-Net's attribute and AU stages (Table 6)
    assert set(stages["pretrain"]["foreach"]) == {"vgg_face", "vgg16", "resnet50", "cnn_m", "fatauva_net"}


def test_every_transfer_row_is_a_stage_and_shown_by_its_chapter():
    stages = _stages()
    staged = set(stages["finetune"]["foreach"]) | set(stages["transfer"]["foreach"])
    assert staged == set(TRANSFERS)
    assert {n for n in stages["finetune"]["foreach"]} == {n for n, t in TRANSFERS.items() if t.prior}
    for name, item in {**stages["finetune"]["foreach"], **stages["transfer"]["foreach"]}.items():
        assert item["data"] == get(name).dataset
    chapters = {"recola": "06_recola", "afew-va": "07_afew_va", "afew": "08_emotiw"}
    for name, t in TRANSFERS.items():
        deps = stages[f"notebook-{chapters[t.dataset].replace('_', '-')}"]["deps"]
        assert f"experiments/{name}/predictions.csv" in deps, name
    for claim in ("recola-prior", "afewva-prior", "emotiw-prior"):
        for name in claims.get(claim).experiments:
            assert name in TRANSFERS


# --------------------------------------------------------------------------------------------
# Every library file a stage's command imports is one of its deps


def _module_file(name: str) -> Path | None:
    """affwild_lib.x.y -> its file (a module, or a package's __init__.py)."""
    path = ROOT / Path(*name.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imports(tree, package: str) -> set[str]:
    """affwild_lib modules imported anywhere in ``tree`` (lazy imports in functions too)."""
    import ast

    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("affwild_lib")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if not module.startswith("affwild_lib"):
                continue
            found.add(module)
            for a in node.names:  # `from . import engine`, `from .models import vgg`
                if _module_file(f"{module}.{a.name}"):
                    found.add(f"{module}.{a.name}")
    return found


def _closure(start: set[str]) -> set[Path]:
    import ast

    seen, todo = set(), list(start)
    while todo:
        name = todo.pop()
        path = _module_file(name)
        if path is None or path in seen:
            continue
        seen.add(path)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        todo += sorted(_imports(ast.parse(path.read_text()), package))
    return seen


def _command_modules(sub: str) -> set[str]:
    """What `affwild SUB` runs: cli.py, and the modules its handler imports."""
    import ast

    tree = ast.parse((ROOT / "affwild_lib" / "cli.py").read_text())
    handler = next(n for n in tree.body if isinstance(n, ast.FunctionDef)
                   and n.name == "_" + sub.replace("-", "_"))
    top = ast.Module(body=[n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))],
                     type_ignores=[])
    main = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "main")
    found = _imports(top, "affwild_lib") | _imports(main, "affwild_lib") | _imports(handler, "affwild_lib")
    # main hands the command to a warm process when one runs (affwild_lib/forkserver.py): that
    # process runs this same closure, so forkserver.py changes no output and is not walked
    return {m for m in found if "forkserver" not in str(m)}


def _stage_commands():
    for name, stage in _stages().items():
        body = stage.get("do", stage)
        words = body["cmd"].split()
        if words[0] == "affwild":
            yield name, words[1], body["deps"]


@pytest.mark.parametrize("stage,sub,deps", list(_stage_commands()), ids=lambda v: v if isinstance(v, str) else "")
def test_a_stage_depends_on_every_library_file_its_command_imports(stage, sub, deps):
    """dvc.yaml lists deps by hand; a module the command imports but the stage does not name
    would let a code change leave the stage's outputs stale (issue 16: every evaluate stage
    was skipped after a change to streaming.py). The import closure, lazy imports included;
    the package's own __init__.py (the version string), _quiet.py (what TensorFlow prints on
    stderr, never an output) and cli.py's other commands aside."""
    closure = (_closure(_command_modules(sub)) | {ROOT / "affwild_lib" / "cli.py"}) - {
        ROOT / "affwild_lib" / "__init__.py", ROOT / "affwild_lib" / "_quiet.py"}
    missing = [str(p.relative_to(ROOT)) for p in sorted(closure)
               if not any(p.relative_to(ROOT).as_posix() == d or p.relative_to(ROOT).as_posix().startswith(d + "/")
                          for d in deps)]
    assert not missing, f"{stage} ({sub}) does not depend on {missing}"
