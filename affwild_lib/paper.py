"""The paper's published numbers, for the side-by-side tables of the book.

Each table is transcribed from Kollias et al. (IJCV 2019) and returned as a pandas DataFrame
whose caption names the table. Chapters set these beside our reproduced figures, always
labelled *paper*.
"""
from __future__ import annotations

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


def table(number: int) -> pd.DataFrame:
    """Table ``number`` of the paper as a DataFrame (those transcribed so far: 2, 3)."""
    if number == 2:
        return pd.DataFrame({"Description": TABLE_2}).rename_axis("Attribute")
    if number == 3:
        return pd.DataFrame(TABLE_3).T.rename_axis("Set")
    raise KeyError(f"Table {number} is not transcribed in affwild_lib.paper")
