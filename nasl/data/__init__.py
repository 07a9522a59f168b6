"""Data shipped with nasl: the NAS-Bench-201 table (see ``NB201_README.md`` beside this file).

``nb201.csv.gz`` is the 15,625-row table of the NATS-Bench topology benchmark
(NAS-Bench-201) in its official index order, byte-for-byte the CSV that the
project's benchmarks were run against, gzip-compressed. It is what
``--evaluator nb201[:DATASET]`` looks architectures up in, so a tabular search
needs no download.
"""
from __future__ import annotations

import csv
import gzip
import io
import os

NB201_TABLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "nb201.csv.gz")

#: dataset name in ``nb201:DATASET`` -> the table's column of 200-epoch test accuracy
NB201_COLUMNS = {
    "cifar10": "CIFAR10TestAccuracy200Epochs",
    "cifar100": "CIFAR100TestAccuracy200Epochs",
    "imagenet16": "ImageNetTestAccuracy200Epochs",
}


def open_text(path) -> io.TextIOBase:
    """A CSV file for reading as text, decompressed on the fly when its name ends in ``.gz``."""
    path = os.fspath(path)
    if path.endswith(".gz"):
        return gzip.open(path, "rt", newline="", encoding="utf-8")
    return open(path, newline="", encoding="utf-8")


def nb201_rows() -> list[dict]:
    """Every row of the bundled NAS-Bench-201 table, in index order, as ``{column: text}``."""
    with open_text(NB201_TABLE) as f:
        return list(csv.DictReader(f))
