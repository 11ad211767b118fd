"""The paper's tables (affwild_lib.paper): transcribed numbers, shapes, the join keys that
experiments.py uses, and the equalities the paper itself implies between tables."""
import math

import pandas as pd
import pytest

from affwild_lib import paper
from affwild_lib.experiments import EXPERIMENTS

CCC_MSE = ["ccc_valence", "ccc_arousal", "mse_valence", "mse_arousal"]
ROWS = {
    5: ["CNN-M"],
    6: ["MM-Net", "FATAUVA-Net", "DRC-Net"],
    9: ["VGG Face", "VGG-16", "ResNet-50"],
    10: ["With Landmarks", "Without Landmarks"],
    11: ["1 Annotator", "Mean of Annotators"],
    12: ["best CNN-GRU", "best CNN-LSTM"],
    13: ["best CNN", "best CNN-RNN"],
    14: ["100 units, 1 Hidden Layer", "100 units, 2 Hidden Layers", "128 units, 1 Hidden Layer",
         "128 units, 2 Hidden Layers", "150 units, 1 Hidden Layer", "150 units, 2 Hidden Layers"],
    15: ["Fine-tuned AffWildNet", "ResNet-GRU"],
    16: ["best of [29]", "Fine-tuned AffWildNet"],
    17: ["only CNN", "Fine-tuned AffWildNet"],
}


# ---- numbers as printed in the paper ---------------------------------------------------------

@pytest.mark.parametrize("number, row, column, value", [
    (5, "CNN-M", "ccc_valence", 0.15), (5, "CNN-M", "ccc_arousal", 0.10),
    (5, "CNN-M", "mse_valence", 0.13), (5, "CNN-M", "mse_arousal", 0.14),
    (6, "FATAUVA-Net", "ccc_valence", 0.396), (6, "MM-Net", "mse_arousal", 0.088),
    (6, "DRC-Net", "ccc_valence", 0.042), (6, "DRC-Net", "mse_valence", 0.161),
    (9, "VGG-16", "ccc_valence", 0.40), (9, "ResNet-50", "mse_valence", 0.11),
    (10, "Without Landmarks", "ccc_valence", 0.44), (10, "Without Landmarks", "mse_arousal", 0.11),
    (11, "1 Annotator", "ccc_arousal", 0.27), (11, "1 Annotator", "mse_valence", 0.15),
    (12, "best CNN-GRU", "ccc_valence", 0.57), (12, "best CNN-GRU", "ccc_arousal", 0.43),
    (12, "best CNN-LSTM", "ccc_arousal", 0.38), (12, "best CNN-LSTM", "mse_arousal", 0.09),
    (14, "100 units, 1 Hidden Layer", "ccc_arousal", 0.36),
    (14, "128 units, 1 Hidden Layer", "ccc_valence", 0.53),
    (14, "150 units, 2 Hidden Layers", "ccc_valence", 0.51),
    (15, "Fine-tuned AffWildNet", "ccc_valence", 0.526), (15, "ResNet-GRU", "ccc_arousal", 0.209),
    (16, "best of [29]", "pcc_arousal", 0.445), (16, "Fine-tuned AffWildNet", "pcc_valence", 0.514),
    (17, "only CNN", "ccc_valence", 0.44), (17, "Fine-tuned AffWildNet", "ccc_arousal", 0.556),
])
def test_scores_as_printed(number, row, column, value):
    assert paper.scores(number).loc[row, column] == pytest.approx(value, abs=1e-12)


@pytest.mark.parametrize("row, column, value", [
    ("VGG-16", "Neutral", 0.327), ("VGG-16 + RNN", "Fear", 0.07), ("ResNet", "Happy", 0.534),
    ("ResNet + RNN", "Total", 0.261), ("VGG-Face + RNN", "Happy", 0.794),
    ("fine-tuned AffWildNet", "Sad", 0.709), ("fine-tuned AffWildNet", "Total", 0.454),
])
def test_table_18_as_printed(row, column, value):
    assert paper.accuracies(18).loc[row, column] == pytest.approx(value, abs=1e-12)


@pytest.mark.parametrize("group, arch, column, value", [
    ("[25]", "HoloNet", "Original", 0.41), ("[27]", "FR-Net-B", "After Fine-Tuning on FER2013", 0.488),
    ("[27]", "LSTM + FR-NET-B", "Data augmentation", 0.504),
    ("[59]", "VGG-Face", "Data augmentation", 0.414), ("[59]", "VGG-LSTM 1 layer", "Data augmentation", 0.486),
    ("[27]", "VGG-Face", "Original", 0.379),
])
def test_table_19_as_printed(group, arch, column, value):
    assert paper.accuracies(19).loc[(group, arch), column] == pytest.approx(value, abs=1e-12)


def test_table_19_not_reported_cells_are_nan():
    t = paper.accuracies(19)
    assert math.isnan(t.loc[("[25]", "HoloNet"), "Data augmentation"])
    assert math.isnan(t.loc[("[59]", "VGG-Face"), "Original"])
    assert math.isnan(t.loc[("[27]", "LSTM + FR-NET-B"), "Original"])
    assert t.notna().sum().sum() == 18  # 18 numbers are printed


def test_table_4_cnn_m_layers():
    t = paper.table(4)
    assert list(t.columns) == ["filter", "ksize", "stride", "padding", "no of units"]
    assert len(t) == 15
    assert list(t.index[:3]) == ["conv 1", "batch norm", "max pooling"]
    assert t.loc["conv 1", "filter"] == [7, 7, 3, 96]
    assert t.loc["conv 2", "padding"] == "SAME" and t.loc["conv 1", "padding"] == "VALID"
    assert t.loc["fc 1", "no of units"] == 4096 and t.loc["fc 2", "no of units"] == 2
    assert (t.index == "batch norm").sum() == 5 and (t.index == "max pooling").sum() == 3
    assert t.loc["conv 1", "ksize"] is None


# ---- shapes ------------------------------------------------------------------------------------

@pytest.mark.parametrize("number", sorted(ROWS))
def test_scores_shape(number):
    t = paper.scores(number)
    assert t.index.name == "row"
    assert list(t.index) == ROWS[number]
    assert list(t.columns) == (["pcc_valence", "pcc_arousal"] if number == 16 else CCC_MSE)
    assert all(dtype == float for dtype in t.dtypes)


@pytest.mark.parametrize("number", [5, 6, 9, 10, 11, 12, 13])
def test_ccc_and_mse_tables_are_complete(number):
    assert paper.scores(number).notna().all().all()


@pytest.mark.parametrize("number", [14, 15, 17])
def test_ccc_only_tables(number):
    t = paper.scores(number)
    assert t[["ccc_valence", "ccc_arousal"]].notna().all().all()
    assert t[["mse_valence", "mse_arousal"]].isna().all().all()


def test_scores_values_are_in_range():
    for number in ROWS:
        values = paper.scores(number).stack().dropna()
        assert ((values > 0) & (values < 1)).all(), number


def test_accuracies_shapes():
    t18 = paper.accuracies(18)
    assert list(t18.columns) == ["Neutral", "Anger", "Disgust", "Fear", "Happy", "Sad", "Surprise",
                                 "Total"]
    assert list(t18.index) == ["VGG-16", "VGG-16 + RNN", "ResNet", "ResNet + RNN",
                               "VGG-Face + RNN", "fine-tuned AffWildNet"]
    assert t18.notna().all().all()
    t19 = paper.accuracies(19)
    assert t19.index.names == ["Group", "Architecture"]
    assert list(t19.columns) == ["Original", "After Fine-Tuning on FER2013", "Data augmentation"]
    assert t19.shape == (13, 3)
    assert list(t19.index.get_level_values("Group").unique()) == ["[25]", "[27]", "[59]", "Our"]


def test_display_layouts():
    t5 = paper.table(5)
    assert isinstance(t5.columns, pd.MultiIndex)
    assert list(t5.columns) == [("CCC", "Valence"), ("CCC", "Arousal"), ("MSE", "Valence"),
                                ("MSE", "Arousal")]
    assert t5.loc["CNN-M", ("CCC", "Valence")] == 0.15
    t10 = paper.table(10)
    assert list(t10.index) == ["CCC", "MSE"]
    assert t10.loc["MSE", ("Without Landmarks", "Valence")] == 0.12
    t11 = paper.table(11)
    assert t11.loc["CCC", ("1 Annotator", "Valence")] == 0.39
    t14 = paper.table(14)
    assert list(t14.index) == [100, 128, 150] and t14.index.name == "Hidden Units"
    assert list(t14.columns.get_level_values(0).unique()) == ["1 Hidden Layer", "2 Hidden Layers"]
    assert t14.loc[128, ("2 Hidden Layers", "Valence")] == 0.57
    assert t14.loc[100, ("1 Hidden Layer", "Arousal")] == 0.36
    assert paper.table(16).columns.get_level_values(0)[0] == "Pearson CC"
    assert paper.table(18).loc["ResNet", ("Accuracy", "Neutral")] == 0.31
    assert paper.table(19).loc[("Our", "Fine-tuned AffWildNet"), ("Total Accuracy", "Original")] == 0.454


def test_existing_tables_still_work():
    assert paper.table(2).loc["No of annotators", "Description"] == "6-8"
    assert paper.table(3).loc["Training", "males"] == 106
    assert paper.TABLE_3["Test"]["females"] == 22 and paper.AFFWILD["videos"] == 298


@pytest.mark.parametrize("number", paper.TRANSCRIBED)
def test_every_transcribed_table_has_a_caption_and_a_frame(number):
    assert paper.caption(number).startswith(f"Table {number}: ")
    frame = paper.table(number)
    assert isinstance(frame, pd.DataFrame) and not frame.empty
    assert frame.attrs["caption"] == paper.caption(number)


def test_transcribed_list():
    assert paper.TRANSCRIBED == [2, 3, 4, 5, 6, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]


@pytest.mark.parametrize("call, number", [(paper.table, 7), (paper.table, 8), (paper.table, 1),
                                          (paper.table, 20), (paper.caption, 7),
                                          (paper.scores, 7), (paper.scores, 18),
                                          (paper.accuracies, 5)])
def test_untranscribed_raises_keyerror(call, number):
    with pytest.raises(KeyError, match=f"Table {number} is not transcribed"):
        call(number)


def test_keyerror_lists_the_transcribed_tables():
    with pytest.raises(KeyError, match="transcribed: 2, 3, 4, 5, 6, 9"):
        paper.table(7)


# ---- the join with experiments.py --------------------------------------------------------------

def _experiment_rows():
    for experiment in EXPERIMENTS.values():
        for ref in experiment.tables:
            number, _, row = ref.partition(":")
            if number.isdigit():
                yield experiment.name, int(number), row


def test_experiments_cover_tables_5_6_and_9_to_18():
    numbers = {number for _, number, _ in _experiment_rows()}
    assert numbers == {5, 6, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18}  # 6: the challenge entries


@pytest.mark.parametrize("name, number, row", list(_experiment_rows()),
                         ids=lambda v: str(v))
def test_every_experiment_row_is_in_the_paper(name, number, row):
    if number == 18:  # EmotiW: accuracies, not CCC
        assert row in paper.accuracies(number).index, f"{name}: {number}:{row}"
        return
    assert row in paper.scores(number).index, f"{name}: {number}:{row}"
    assert (number, row) in paper.all_scores().index


def test_every_paper_row_of_tables_5_and_9_to_14_has_an_experiment():
    refs = {(number, row) for _, number, row in _experiment_rows()}
    for number in (5, 6, 9, 10, 11, 12, 13, 14):
        for row in paper.scores(number).index:
            assert (number, row) in refs, f"{number}:{row}"


def test_all_scores():
    t = paper.all_scores()
    assert t.index.names == ["table", "row"]
    assert list(t.columns) == CCC_MSE + ["pcc_valence", "pcc_arousal"]
    assert len(t) == sum(len(rows) for rows in ROWS.values())
    assert t.loc[(12, "best CNN-GRU"), "ccc_valence"] == 0.57
    assert math.isnan(t.loc[(16, "best of [29]"), "ccc_valence"])


# ---- equalities and orderings the paper implies -------------------------------------------------

def _row(number, row, columns=CCC_MSE):
    return paper.scores(number).loc[row, columns].to_list()


@pytest.mark.parametrize("a, b", [
    ((10, "With Landmarks"), (9, "VGG Face")),        # Table 9's CNNs use landmarks
    ((11, "Mean of Annotators"), (9, "VGG Face")),    # ... and the released (mean) labels
    ((13, "best CNN"), (9, "VGG Face")),
    ((13, "best CNN-RNN"), (12, "best CNN-GRU")),     # AffWildNet: 2 x GRU 128
])
def test_same_model_same_numbers(a, b):
    assert _row(*a) == _row(*b)


def test_table_14_best_is_affwildnet():
    ccc = ["ccc_valence", "ccc_arousal"]
    assert _row(14, "128 units, 2 Hidden Layers", ccc) == _row(12, "best CNN-GRU", ccc)
    assert _row(14, "128 units, 2 Hidden Layers", ccc) == _row(13, "best CNN-RNN", ccc)
    t14 = paper.scores(14)
    assert t14["ccc_valence"].idxmax() == "128 units, 2 Hidden Layers"
    assert t14["ccc_arousal"].idxmax() == "128 units, 2 Hidden Layers"


def test_claims_of_the_text():
    assert paper.scores(6)["ccc_valence"].idxmax() == "FATAUVA-Net"   # Sect. 4.1.2
    assert paper.scores(9)["ccc_valence"].idxmax() == "VGG Face"      # Sect. 4.2.2.1
    t12 = paper.scores(12)                                             # GRU beats LSTM
    assert (t12.loc["best CNN-GRU", ["ccc_valence", "ccc_arousal"]]
            > t12.loc["best CNN-LSTM", ["ccc_valence", "ccc_arousal"]]).all()
    for number in (15, 16, 17):                                        # Sect. 5.1
        t = paper.scores(number)
        assert (t.loc["Fine-tuned AffWildNet"].dropna() > t.drop("Fine-tuned AffWildNet").iloc[0].dropna()).all()
    t18 = paper.accuracies(18)
    assert t18["Total"].idxmax() == "fine-tuned AffWildNet"            # Sect. 5.2.1


def test_emotiw_tables_agree():
    ours = paper.accuracies(19).loc[("Our", "Fine-tuned AffWildNet"), "Original"]
    assert ours == paper.accuracies(18).loc["fine-tuned AffWildNet", "Total"]
    # "better than all vanilla architectures' performances" of the winners (Sect. 5.2.1)
    assert ours > paper.accuracies(19).drop("Our", level="Group")["Original"].max()
    assert ours > 0.3881  # the EmotiW 2017 baseline quoted in Sect. 5.2.1


def test_table_18_total_lies_between_class_accuracies():
    t = paper.accuracies(18)
    per_class = t.drop(columns="Total")
    assert ((per_class.min(axis=1) <= t["Total"]) & (t["Total"] <= per_class.max(axis=1))).all()
