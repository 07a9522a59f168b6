"""Interop with the formats of the literature: NAS-Bench-201 strings, NAS-Bench-101 specs, DARTS genotypes."""
from nasl.formats import darts, nb101, nb201

__all__ = ["darts", "nb101", "nb201"]
