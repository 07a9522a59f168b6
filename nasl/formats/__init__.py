"""Interop with the formats of the literature: NAS-Bench-201 strings, DARTS genotypes."""
from nasl.formats import darts, nb201

__all__ = ["darts", "nb201"]
