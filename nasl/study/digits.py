"""The embedded default data set: scikit-learn's bundled handwritten digits.

1,797 grey-scale images of 8x8 pixels, 10 classes, shipped inside
scikit-learn (``sklearn.datasets.load_digits``), so no download is needed.
Pixels (0..16 in the source) are scaled to ``[0, 1]``. The train/validation
split is stratified by class and fixed by a seed, so every trial of a study
is scored on the same validation images.
"""
from __future__ import annotations

import functools

#: the shape of one digits image, channels first: one channel, 8x8 pixels
INPUT_SHAPE = (1, 8, 8)
#: the number of digit classes
NUM_CLASSES = 10
#: the share of all images the training evaluator holds out as a test set by default (360 of 1,797)
DEFAULT_TEST_FRACTION = 0.2


@functools.lru_cache(maxsize=8)
def _split_arrays(seed: int, val_fraction: float, test_fraction: float = 0.0):
    """NumPy arrays of the split; cached per process, since workers call it once per trial."""
    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    data = load_digits()
    x = (data.data.astype(np.float32) / 16.0).reshape(-1, *INPUT_SHAPE)
    y = data.target.astype(np.int64)
    try:
        x_tr, x_va, y_tr, y_va = train_test_split(x, y, test_size=val_fraction, random_state=seed, stratify=y)
    except ValueError as e:
        # e.g. too few validation images to hold one of each class
        raise ValueError(f"cannot split the digits with val_fraction={val_fraction}: {e}") from None
    out = [x_tr, y_tr, x_va, y_va]
    if test_fraction:
        # the test images come out of the training part: the validation images stay those of test_fraction=0
        try:
            x_tr, x_te, y_tr, y_te = train_test_split(x_tr, y_tr, test_size=test_fraction / (1 - val_fraction),
                                                      random_state=seed, stratify=y_tr)
        except ValueError as e:
            raise ValueError(f"cannot split the digits with test_fraction={test_fraction}: {e}") from None
        out = [x_tr, y_tr, x_va, y_va, x_te, y_te]
    for a in out:
        a.setflags(write=False)
    return tuple(out)


def default_space_path() -> str:
    """The path of the bundled default space, ``nasl/spaces/digits.nas``, for 1x8x8 digits.

    >>> import nasl
    >>> nasl.load(default_space_path()).size()
    140625
    """
    from importlib.resources import files

    return str(files("nasl.spaces").joinpath("digits.nas"))


def load_digits_split(seed: int = 0, val_fraction: float = 0.2, test_fraction: float = 0.0):
    """The digits data set as a stratified train/validation split.

    Parameters
    ----------
    seed : int
        Seed of the split; the same seed gives the same split.
    val_fraction : float
        Fraction of the images held out for validation, in ``(0, 1)``.
    test_fraction : float
        Fraction of all images held out from the training part as a test set
        (0, the default: none). The validation images do not change with it.

    Returns
    -------
    tuple of torch.Tensor
        ``(X_train, y_train, X_val, y_val)``, then ``X_test, y_test`` when
        ``test_fraction`` is above 0: images as float32 tensors shaped
        ``[N, 1, 8, 8]`` with values in ``[0, 1]``, labels as int64 tensors
        shaped ``[N]``. Each class keeps its share in both parts.

    Examples
    --------
    >>> X_train, y_train, X_val, y_val = load_digits_split(seed=0)
    >>> tuple(X_train.shape), tuple(X_val.shape)
    ((1437, 1, 8, 8), (360, 1, 8, 8))
    """
    import torch

    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an int, not {seed!r}")
    if isinstance(val_fraction, bool) or not isinstance(val_fraction, (int, float)) or not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must be a number strictly between 0 and 1, not {val_fraction!r}")
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, (int, float)) or \
            not 0 <= test_fraction < 1 - val_fraction:
        raise ValueError(f"test_fraction must be a number in [0, 1 - val_fraction), not {test_fraction!r}")
    return tuple(torch.tensor(a) for a in _split_arrays(int(seed), float(val_fraction), float(test_fraction)))


__all__ = ["load_digits_split", "default_space_path", "INPUT_SHAPE", "NUM_CLASSES", "DEFAULT_TEST_FRACTION"]
