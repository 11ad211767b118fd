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
    ("03_challenge_baseline", [5], []),
    ("04_cnn_ablations", [9, 10, 11, "loss", "oversampling"],
     ["vggface-backbone", "landmarks", "mean-annotators", "ccc-loss", "oversampling"]),
    ("05_affwildnet", [12, 13, 14], ["gru-lstm", "cnn-rnn", "beats-baseline", "two-layers", "128-units"]),
    ("06_recola", [15, "15x"], ["recola-prior"]),
    ("07_afew_va", [16, 17, "17x"], ["afewva-prior"]),
    ("08_emotiw", [18], ["emotiw-prior"]),
    ("90_reproduction", [5, 9, 10, 11, 12, 13, 14, 15, "15x", 16, 17, "17x", 18],
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
        assert f'verdict_md(\\"{key}\\")' in source, f"{stem} does not show claim {key}"


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
    assert set(stages["pretrain"]["foreach"]) == {"vgg_face", "vgg16", "resnet50", "cnn_m"}


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
