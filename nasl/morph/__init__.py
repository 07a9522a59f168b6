"""Transformations of an architecture together with its trained weights (model reuse).

Each takes a space, a parent architecture and its ``state_dict`` and returns a
:class:`~nasl.morph.graphs.Morph`: the child architecture (a point of the same space), the
child's ``state_dict``, and whether the child computes the parent's function
(``preserving``). A transformation the space cannot express is refused with a one-line
``NaslError`` that names the choice path. See docs/morph.md.

- :func:`net2wider`, :func:`shrink` (N2N, not preserving): a width choice.
- :func:`net2deeper`, :func:`remove_layer` (N2N, not preserving): a depth choice.
- :func:`replicate_path`, :func:`split_path`, :func:`insert_node`, :func:`replace_identity`:
  path-level transformations of tree cells.
- :func:`inherit`: weight inheritance for any mutation of any space.

This package imports torch; ``import nasl`` does not import it.
"""
from __future__ import annotations

from nasl.morph.deeper import net2deeper, remove_layer
from nasl.morph.graphs import Morph
from nasl.morph.inherit import inherit
from nasl.morph.paths import insert_node, replace_identity, replicate_path, split_path
from nasl.morph.wider import net2wider, shrink

__all__ = ["Morph", "inherit", "net2wider", "shrink", "net2deeper", "remove_layer", "replicate_path",
           "split_path", "insert_node", "replace_identity"]
