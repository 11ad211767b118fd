"""Readers of the paper's datasets, each in its real release layout.

Aff-Wild (Sect. 2.4), RECOLA (Sect. 2.1), AFEW-VA (Sect. 2.3), AFEW / EmotiW (Sect. 2.2) and,
as a bonus, Aff-Wild2 all come out as lists of :class:`VideoRecord`::

    from affwild_lib import datasets
    records = datasets.read("affwild", "/data/Aff-Wild")
    summary = datasets.check("recola", "/data/RECOLA")   # JSON-able dict

Readers only read: nothing under a release's folder is ever written. The layouts, and what
each reader accepts, are described on the book page *Data formats* (``book/data_formats.md``).
"""
from .afew_va import scale_labels
from .affwild import read_raw_traces
from .check import check
from .errors import DatasetError
from .readers import FORMATS, read
from .record import VideoRecord
from .video import VideoInfo, probe, read_frames

__all__ = ["FORMATS", "DatasetError", "VideoInfo", "VideoRecord", "check", "probe", "read",
           "read_frames", "read_raw_traces", "scale_labels"]
