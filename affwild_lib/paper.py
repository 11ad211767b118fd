"""The paper's published numbers, for the side-by-side tables of the book.

Each table is transcribed from Kollias et al., "Deep Affect Prediction in-the-wild: Aff-Wild
Database and Challenge, Deep Architectures, and Beyond" (IJCV 2019) and returned as a pandas
DataFrame. Chapters set these beside our reproduced figures, always labelled *paper*.

Three views:

* :func:`table` -- any transcribed table (2-6, 9-19) in the paper's own layout, for display;
* :func:`scores` -- the valence/arousal tables (5, 6, 9-17) in one "long" shape, one row per
  paper row, columns ``ccc_valence, ccc_arousal, mse_valence, mse_arousal`` (Table 16:
  ``pcc_valence, pcc_arousal``), index ``row`` = the paper's row label. The labels of Tables 5
  and 9-14 are those after the colon in :attr:`affwild_lib.experiments.Experiment.tables`, so
  our results join the paper's on ``(table, row)`` (see :func:`all_scores`);
* :func:`accuracies` -- the categorical EmotiW tables (18, 19).

Numbers are copied as printed (``0.10`` is stored as the float 0.1); a value the paper does
not give is NaN (``None`` in the raw dicts).
"""
from __future__ import annotations

import math

import pandas as pd

#: Table 2: attributes of the Aff-Wild database (Sect. 2.4).
TABLE_2 = {
    "Total no of videos": "252 (train) + 46 (test) = 298",
    "Length of videos": "0.10-14.47 min",
    "Video format": "AVI, MP4",
    "Average Image Resolution (AIR)": "607 x 359",
    "Standard deviation of AIR": "85 x 11",
    "Median Image Resolution": "640 x 360",
    "No of annotators": "6-8",
}

#: Table 3: number of subjects in the Aff-Wild database, by set and sex (Sect. 4.1).
TABLE_3 = {"Training": {"males": 106, "females": 48}, "Test": {"males": 24, "females": 22}}

#: Facts of Sect. 2.4 used in the statistics chapter.
AFFWILD = {"videos": 298, "train_videos": 252, "test_videos": 46, "subjects": 200,
           "males": 130, "females": 70, "hours": 30, "frames": 1_180_000}

# ---------------------------------------------------------------------------------------------
# Table 4: the challenge baseline, CNN-M (Sect. 4.1.1). TensorFlow notation as printed: filter
# [h, w, in, out], ksize/stride [1, h, w, 1]; padding without the printed quotes; a key left
# out = blank cell. Layers repeat (batch norm, max pooling), hence a list, not a dict by layer.
TABLE_4 = [
    {"Layer": "conv 1", "filter": [7, 7, 3, 96], "stride": [1, 2, 2, 1], "padding": "VALID"},
    {"Layer": "batch norm"},
    {"Layer": "max pooling", "ksize": [1, 3, 3, 1], "stride": [1, 2, 2, 1], "padding": "VALID"},
    {"Layer": "conv 2", "filter": [5, 5, 96, 256], "stride": [1, 2, 2, 1], "padding": "SAME"},
    {"Layer": "batch norm"},
    {"Layer": "max pooling", "ksize": [1, 3, 3, 1], "stride": [1, 2, 2, 1], "padding": "SAME"},
    {"Layer": "conv 3", "filter": [3, 3, 256, 512], "stride": [1, 1, 1, 1], "padding": "SAME"},
    {"Layer": "batch norm"},
    {"Layer": "conv 4", "filter": [3, 3, 512, 512], "stride": [1, 1, 1, 1], "padding": "SAME"},
    {"Layer": "batch norm"},
    {"Layer": "conv 5", "filter": [3, 3, 512, 512], "stride": [1, 1, 1, 1], "padding": "SAME"},
    {"Layer": "batch norm"},
    {"Layer": "max pooling", "ksize": [1, 2, 2, 1], "stride": [1, 2, 2, 1], "padding": "SAME"},
    {"Layer": "fc 1", "no of units": 4096},
    {"Layer": "fc 2", "no of units": 2},
]
TABLE_4_COLUMNS = ["filter", "ksize", "stride", "padding", "no of units"]

# ---------------------------------------------------------------------------------------------
# Valence/arousal tables, stored long: {paper row label: {metric_dimension: value}}. One shape
# for all so scores() needs no per-table code; table() rebuilds each printed layout.


def _cm(ccc_v, ccc_a, mse_v=None, mse_a=None) -> dict:
    return {"ccc_valence": ccc_v, "ccc_arousal": ccc_a, "mse_valence": mse_v, "mse_arousal": mse_a}


#: Table 5: CCC and MSE of the CNN-M challenge baseline on the Aff-Wild test set (Sect. 4.1.1).
#: The text extraction prints the row as "CNN M"; the caption and Sect. 4.1.1 name it CNN-M.
TABLE_5 = {"CNN-M": _cm(0.15, 0.10, 0.13, 0.14)}

#: Table 6: CCC and MSE of the 3 methods of the Aff-Wild challenge (Sect. 4.1.2).
TABLE_6 = {
    "MM-Net": _cm(0.196, 0.214, 0.134, 0.088),
    "FATAUVA-Net": _cm(0.396, 0.282, 0.123, 0.095),
    "DRC-Net": _cm(0.042, 0.291, 0.161, 0.094),
}

#: Table 9: the CNN initialised from 3 pre-trained networks (Sect. 4.2.2.1).
TABLE_9 = {
    "VGG Face": _cm(0.51, 0.33, 0.10, 0.08),
    "VGG-16": _cm(0.40, 0.30, 0.13, 0.11),
    "ResNet-50": _cm(0.43, 0.30, 0.11, 0.11),
}

#: Table 10: the best CNN (VGG Face) with/without landmarks (Sect. 4.2.2.1). Printed transposed
#: (rows CCC/MSE, columns condition x dimension); stored with the conditions as rows.
TABLE_10 = {
    "With Landmarks": _cm(0.51, 0.33, 0.10, 0.08),
    "Without Landmarks": _cm(0.44, 0.32, 0.12, 0.11),
}

#: Table 11: the best CNN (VGG Face) trained on one annotator vs the mean of annotators
#: (Sect. 4.2.2.1). Printed transposed like Table 10.
TABLE_11 = {
    "1 Annotator": _cm(0.39, 0.27, 0.15, 0.13),
    "Mean of Annotators": _cm(0.51, 0.33, 0.10, 0.08),
}

#: Table 12: CNN-GRU vs CNN-LSTM, both 2 hidden layers x 128 units (Sect. 4.2.2.2).
TABLE_12 = {
    "best CNN-GRU": _cm(0.57, 0.43, 0.08, 0.06),
    "best CNN-LSTM": _cm(0.52, 0.38, 0.10, 0.09),
}

#: Table 13: best CNN vs best CNN-RNN (AffWildNet) (Sect. 4.2.2.2).
TABLE_13 = {
    "best CNN": _cm(0.51, 0.33, 0.10, 0.08),
    "best CNN-RNN": _cm(0.57, 0.43, 0.08, 0.06),
}

#: Table 14: CCC only, by GRU hidden units (100/128/150) and layers (1/2) (Sect. 4.2.2.2). Printed
#: as units x (layers x dimension); a row label here names both, as experiments.py does.
TABLE_14 = {
    "100 units, 1 Hidden Layer": _cm(0.44, 0.36),
    "100 units, 2 Hidden Layers": _cm(0.50, 0.41),
    "128 units, 1 Hidden Layer": _cm(0.53, 0.40),
    "128 units, 2 Hidden Layers": _cm(0.57, 0.43),
    "150 units, 1 Hidden Layer": _cm(0.46, 0.39),
    "150 units, 2 Hidden Layers": _cm(0.51, 0.41),
}

#: Table 15: CCC only, on the RECOLA test set (Sect. 5.1.1).
TABLE_15 = {
    "Fine-tuned AffWildNet": _cm(0.526, 0.273),
    "ResNet-GRU": _cm(0.462, 0.209),
}

#: Table 16: Pearson CC on AFEW-VA, 5-fold person-independent CV (Sect. 5.1.2); [29] is
#: Kossaifi et al.'s AFEW-VA paper.
TABLE_16 = {
    "best of [29]": {"pcc_valence": 0.407, "pcc_arousal": 0.445},
    "Fine-tuned AffWildNet": {"pcc_valence": 0.514, "pcc_arousal": 0.575},
}

#: Table 17: CCC only, on AFEW-VA (Sect. 5.1.2; the caption says "training set").
TABLE_17 = {
    "only CNN": _cm(0.44, 0.474),
    "Fine-tuned AffWildNet": _cm(0.515, 0.556),
}

#: Table 18: per-class and total accuracy on the EmotiW 2017 (AFEW 5.0) validation set
#: (Sect. 5.2.1). Rows/columns as printed (the last row's lower-case "fine-tuned" too).
EMOTIONS = ["Neutral", "Anger", "Disgust", "Fear", "Happy", "Sad", "Surprise"]
#: AFEW's folder names (:data:`affwild_lib.datasets.afew.EMOTIONS`) where Table 18 names a class otherwise.
PAPER_EMOTIONS = {"Angry": "Anger"}
TABLE_18 = {
    name: dict(zip(EMOTIONS + ["Total"], values)) for name, values in [
        ("VGG-16", [0.327, 0.424, 0.102, 0.093, 0.476, 0.138, 0.133, 0.263]),
        ("VGG-16 + RNN", [0.431, 0.559, 0.026, 0.07, 0.444, 0.259, 0.044, 0.293]),
        ("ResNet", [0.31, 0.153, 0.077, 0.023, 0.534, 0.207, 0.067, 0.211]),
        ("ResNet + RNN", [0.431, 0.237, 0.077, 0.07, 0.587, 0.155, 0.089, 0.261]),
        ("VGG-Face + RNN", [0.552, 0.593, 0.026, 0.047, 0.794, 0.259, 0.111, 0.384]),
        ("fine-tuned AffWildNet", [0.569, 0.627, 0.051, 0.023, 0.746, 0.709, 0.111, 0.454]),
    ]
}

#: Table 19: total validation accuracy of the 3 EmotiW 2017 winners ([25], [27], [59]) and ours
#: (Sect. 5.2.1), keyed (group, architecture): VGG-Face occurs under [27] and [59]. None is a
#: cell printed "-" or blank; the blanks sit beside a "-" in the same group and column (merged
#: "-" cells of the typeset table), so both mean "not reported".
TABLE_19_COLUMNS = ["Original", "After Fine-Tuning on FER2013", "Data augmentation"]
TABLE_19 = {
    key: dict(zip(TABLE_19_COLUMNS, values)) for key, values in [
        (("[25]", "DenseNet-121"), [0.414, None, None]),
        (("[25]", "HoloNet"), [0.41, None, None]),
        (("[25]", "ResNet-50"), [0.418, None, None]),
        (("[27]", "VGG-Face"), [0.379, 0.483, None]),
        (("[27]", "FR-Net-A"), [0.337, 0.446, None]),
        (("[27]", "FR-Net-B"), [0.334, 0.488, None]),
        (("[27]", "FR-Net-C"), [0.376, 0.452, None]),
        (("[27]", "LSTM + FR-NET-B"), [None, 0.465, 0.504]),
        (("[59]", "Weighted C3D (no overlap)"), [None, None, 0.421]),
        (("[59]", "LSTM C3D (no overlap)"), [None, None, 0.432]),
        (("[59]", "VGG-Face"), [None, None, 0.414]),
        (("[59]", "VGG-LSTM 1 layer"), [None, None, 0.486]),
        (("Our", "Fine-tuned AffWildNet"), [0.454, None, None]),
    ]
}

#: Tables in the long valence/arousal shape of :func:`scores`.
SCORE_TABLES = {5: TABLE_5, 6: TABLE_6, 9: TABLE_9, 10: TABLE_10, 11: TABLE_11, 12: TABLE_12,
                13: TABLE_13, 14: TABLE_14, 15: TABLE_15, 16: TABLE_16, 17: TABLE_17}
SCORE_COLUMNS = ["ccc_valence", "ccc_arousal", "mse_valence", "mse_arousal"]
PCC_COLUMNS = ["pcc_valence", "pcc_arousal"]

#: Each table's caption, abbreviated.
CAPTIONS: dict[int, str] = {
    2: "Attributes of the Aff-Wild database",
    3: "Number of subjects in the Aff-Wild database",
    4: "Baseline architecture based on CNN-M (TensorFlow notation): parameters of the "
       "convolutional and pooling layers, hidden units of the fully connected ones",
    5: "CCC and MSE of valence & arousal predictions of the CNN-M baseline",
    6: "CCC and MSE of valence & arousal predictions of the 3 challenge methods",
    9: "CCC and MSE of the CNN initialised from 3 different pre-trained networks",
    10: "CCC and MSE of the best CNN (VGG Face), with/without landmarks",
    11: "CCC and MSE of the best CNN (VGG Face), trained on one annotator's values or on the "
        "mean of annotators",
    12: "CCC and MSE of the best CNN-GRU and CNN-LSTM (2 hidden layers of 128 units each)",
    13: "CCC and MSE of the best CNN and CNN-RNN architectures",
    14: "CCC of the CNN-RNN for different numbers of hidden units & hidden layers",
    15: "CCC of the fine-tuned AffWildNet and the ResNet-GRU on the RECOLA test set",
    16: "Pearson CC of the best architecture in [29] vs AffWildNet fine-tuned on AFEW-VA",
    17: "CCC of the VGG Face CNN and the fine-tuned AffWildNet on AFEW-VA",
    18: "Accuracies on the EmotiW validation set of CNN and CNN-RNN architectures vs the "
        "fine-tuned AffWildNet",
    19: "Overall accuracies on the EmotiW validation set of the best architectures of the 3 "
        "winning methods of EmotiW 2017 vs the fine-tuned AffWildNet",
}

#: The tables :func:`table` can return.
TRANSCRIBED = sorted(CAPTIONS)


def _missing(kind: str, number, known) -> KeyError:
    what = f"transcribed {kind}" if kind else "transcribed"
    return KeyError(f"Table {number} is not {what} in affwild_lib.paper; "
                    f"transcribed: {', '.join(map(str, known))}")


def caption(number: int) -> str:
    """The (abbreviated) caption of Table ``number``, prefixed "Table N: "."""
    if number not in CAPTIONS:
        raise _missing("", number, TRANSCRIBED)
    return f"Table {number}: {CAPTIONS[number]}"


def _nan(value):
    return math.nan if value is None else value


def scores(table_number: int) -> pd.DataFrame:
    """Valence/arousal scores of Table 5, 6 or 9-17 (Sects. 4.1-5.1), one row per paper row.

    Columns ``ccc_valence, ccc_arousal, mse_valence, mse_arousal`` (NaN where the paper gives
    none: Tables 14, 15, 17 are CCC only), or ``pcc_valence, pcc_arousal`` for Table 16 (Pearson
    CC). The index, named ``row``, holds the paper's row labels in the paper's order.
    """
    if table_number not in SCORE_TABLES:
        raise _missing("as valence/arousal scores", table_number, sorted(SCORE_TABLES))
    raw = SCORE_TABLES[table_number]
    columns = PCC_COLUMNS if table_number == 16 else SCORE_COLUMNS
    frame = pd.DataFrame([[_nan(raw[row].get(c)) for c in columns] for row in raw],
                         index=pd.Index(list(raw), name="row"), columns=columns, dtype=float)
    frame.attrs["caption"] = caption(table_number)
    return frame


def all_scores() -> pd.DataFrame:
    """Every table of :func:`scores` stacked, indexed ``(table, row)`` to join our results on.

    Columns are the union (CCC, MSE, then Pearson CC); NaN where a table has no such metric.
    """
    frames = {n: scores(n) for n in SCORE_TABLES}
    out = pd.concat(frames, names=["table", "row"])
    return out[SCORE_COLUMNS + PCC_COLUMNS]


def accuracies(table_number: int) -> pd.DataFrame:
    """Categorical accuracies on the EmotiW 2017 validation set (Sect. 5.2.1).

    * 18: rows = networks (index ``row``), columns = the seven emotions + ``Total`` as printed;
    * 19: rows indexed ``(Group, Architecture)`` as printed ("[25]", "[27]", "[59]", "Our"),
      columns the printed sub-columns of "Total Accuracy": ``Original``, ``After Fine-Tuning on
      FER2013``, ``Data augmentation``; NaN where the paper gives "-" or nothing.
    """
    if table_number == 18:
        frame = pd.DataFrame.from_dict(TABLE_18, orient="index", dtype=float)
        frame = frame[EMOTIONS + ["Total"]].rename_axis("row")
    elif table_number == 19:
        index = pd.MultiIndex.from_tuples(list(TABLE_19), names=["Group", "Architecture"])
        frame = pd.DataFrame([[_nan(v[c]) for c in TABLE_19_COLUMNS] for v in TABLE_19.values()],
                             index=index, columns=TABLE_19_COLUMNS, dtype=float)
    else:
        raise _missing("as accuracies", table_number, [18, 19])
    frame.attrs["caption"] = caption(table_number)
    return frame


# ---- the paper's layouts ---------------------------------------------------------------------

_VA = ["Valence", "Arousal"]
#: Metric headers as printed over the Valence/Arousal columns.
_HEADERS = {15: ["CCC"], 16: ["Pearson CC"], 17: ["CCC AFEW-VA"]}
#: Printed header of the row-label column, where the paper has one.
_ROW_HEADERS = {6: "Methods", 16: "Group"}


def _by_rows(number: int) -> pd.DataFrame:
    """Rows = paper rows, columns (metric | Valence, Arousal), as Tables 5, 6, 9, 12, 13, 15-17."""
    long = scores(number)
    headers = _HEADERS.get(number, ["CCC", "MSE"])
    columns = pd.MultiIndex.from_product([headers, _VA])
    frame = pd.DataFrame(long.iloc[:, :len(columns)].to_numpy(), index=long.index.to_list(),
                         columns=columns)
    return frame.rename_axis(_ROW_HEADERS.get(number))


def _transposed(number: int) -> pd.DataFrame:
    """Rows CCC/MSE, columns (condition | Valence, Arousal), as Tables 10 and 11."""
    long = scores(number)
    columns = pd.MultiIndex.from_product([long.index.to_list(), _VA])
    data = [[long.loc[row, f"{m}_{d.lower()}"] for row, d in columns] for m in ("ccc", "mse")]
    return pd.DataFrame(data, index=["CCC", "MSE"], columns=columns)


def _table_14() -> pd.DataFrame:
    """Rows = hidden units, columns (1 Hidden Layer | 2 Hidden Layers) x (Valence | Arousal)."""
    long = scores(14)
    cells: dict[tuple, dict] = {}
    for row in long.index:
        units, layers = row.split(" units, ")
        for d in _VA:
            cells.setdefault((layers, d), {})[int(units)] = long.loc[row, f"ccc_{d.lower()}"]
    frame = pd.DataFrame(cells)
    frame.columns = pd.MultiIndex.from_tuples(frame.columns)
    return frame.rename_axis("Hidden Units")


def table(number: int) -> pd.DataFrame:
    """Table ``number`` of the paper as a DataFrame in the paper's layout (display).

    Transcribed: 2-6 and 9-19 (:data:`TRANSCRIBED`); others raise KeyError. The numeric
    valence/arousal tables have MultiIndex columns (metric | Valence, Arousal), Tables 10/11
    (condition | Valence, Arousal) with rows CCC/MSE, Table 14 (layers | Valence, Arousal) with
    rows = hidden units, Table 18 (Accuracy | emotion), Table 19 (Total Accuracy | variant).
    The (abbreviated) caption is in ``frame.attrs["caption"]``. For code use :func:`scores`
    and :func:`accuracies`.
    """
    if number == 2:
        frame = pd.DataFrame({"Description": TABLE_2}).rename_axis("Attribute")
    elif number == 3:
        frame = pd.DataFrame(TABLE_3).T.rename_axis("Set")
    elif number == 4:
        frame = pd.DataFrame([[layer.get(c) for c in TABLE_4_COLUMNS] for layer in TABLE_4],
                             index=pd.Index([layer["Layer"] for layer in TABLE_4], name="Layer"),
                             columns=TABLE_4_COLUMNS, dtype=object)  # blanks stay None
    elif number in (10, 11):
        frame = _transposed(number)
    elif number == 14:
        frame = _table_14()
    elif number in SCORE_TABLES:
        frame = _by_rows(number)
    elif number == 18:
        frame = accuracies(18).rename_axis("Architectures")
        frame.columns = pd.MultiIndex.from_product([["Accuracy"], frame.columns])
    elif number == 19:
        frame = accuracies(19)
        frame.columns = pd.MultiIndex.from_product([["Total Accuracy"], frame.columns])
    else:
        raise _missing("", number, TRANSCRIBED)
    frame.attrs["caption"] = caption(number)
    return frame


__all__ = ["AFFWILD", "CAPTIONS", "EMOTIONS", "PAPER_EMOTIONS", "SCORE_TABLES", "TABLE_2", "TABLE_3", "TABLE_4",
           "TABLE_5", "TABLE_6", "TABLE_9", "TABLE_10", "TABLE_11", "TABLE_12", "TABLE_13",
           "TABLE_14", "TABLE_15", "TABLE_16", "TABLE_17", "TABLE_18", "TABLE_19",
           "TRANSCRIBED", "accuracies", "all_scores", "caption", "scores", "table"]
