"""A learned latency predictor: ridge regression on the ``ArchGraph`` encoding of measured networks.

The lookup table (:mod:`nasl.study.latency`) adds up ops measured alone; a
learned predictor instead fits whole networks' measured latencies, so it
also sees what the sum leaves out (the forward's own overhead, residual
adds, caches warm across layers). The features of a network are the
adjacency encoding of its realized ``ArchGraph``
(:func:`nasl.ir.encodings.adjacency_encoding`: the upper triangle of the
contracted graph's adjacency plus a one-hot of each node's op label, in
topological order), followed by the count of each op label (the one-hot
summed over the nodes, which a linear model cannot form from positions
that shift with depth). The model is ridge regression on standardised
features, solved in closed form with numpy, and stored as JSON.
"""
from __future__ import annotations


from nasl.ir.errors import NaslError
from nasl.study.latency import read_json, write_json

KIND = "nasl-latency-model"


def features(graph, vocab, max_nodes: int) -> list[float]:
    """The feature vector of a realized ``graph`` (see the module doc)."""
    from nasl.ir.encodings import adjacency_encoding, op_labels
    unknown = sorted(set(op_labels(graph)) - set(vocab))
    if unknown:
        raise NaslError(f"the latency model has never seen the op '{unknown[0]}'; refit it on more "
                        f"architectures (nasl latency fit SPACE --samples N)")
    try:
        enc = adjacency_encoding(graph, vocab, max_nodes)
    except ValueError as e:
        raise NaslError(f"the latency model cannot encode this network: {e}; refit it on more architectures "
                        f"(nasl latency fit SPACE --samples N)") from None
    onehot = enc[max_nodes * (max_nodes - 1) // 2:]
    width = len(vocab) + 2          # input, the ops, output
    counts = [sum(onehot[i * width + j] for i in range(max_nodes)) for j in range(width)]
    return enc + counts


def fit(graphs, latencies_ms, *, ridge: float = 1.0, slack_nodes: int = 4, info=None) -> dict:
    """Fit the predictor to realized ``graphs`` and their measured ``latencies_ms``.

    ``slack_nodes`` pads the encoding beyond the largest graph seen, so a
    slightly deeper network still encodes.
    """
    import numpy as np
    graphs = list(graphs)
    y = np.asarray(latencies_ms, dtype=float)
    if len(graphs) != len(y) or len(graphs) < 2:
        raise NaslError(f"fitting a latency model needs at least 2 networks with a latency each "
                        f"(got {len(graphs)} networks, {len(y)} latencies)")
    if ridge <= 0:
        raise NaslError(f"ridge must be positive, not {ridge}")
    from nasl.ir.encodings import contracted_size, op_labels
    vocab = sorted({lab for g in graphs for lab in op_labels(g)})
    max_nodes = max(contracted_size(g, vocab) for g in graphs) + slack_nodes
    X = np.asarray([features(g, vocab, max_nodes) for g in graphs])
    mu, sd = X.mean(0), X.std(0)
    sd[sd == 0] = 1.0
    Z = (X - mu) / sd
    y0 = y.mean()
    w = np.linalg.solve(Z.T @ Z + ridge * np.eye(Z.shape[1]), Z.T @ (y - y0))
    return {"kind": KIND, "vocab": vocab, "max_nodes": max_nodes, "ridge": ridge, "mean": mu.tolist(),
            "scale": sd.tolist(), "weights": w.tolist(), "intercept": float(y0), "trained_on": len(graphs),
            **(info or {})}


def predict_ms(model: dict, graph) -> float:
    """The predicted latency of a realized ``graph`` in ms."""
    x = features(graph, model["vocab"], model["max_nodes"])
    return model["intercept"] + sum((xi - m) / s * w for xi, m, s, w in
                                    zip(x, model["mean"], model["scale"], model["weights"]))


def save(model: dict, path) -> str:
    return write_json(model, path)


def load(path) -> dict:
    model = read_json(path, "the latency model")
    if not isinstance(model, dict) or model.get("kind") != KIND:
        raise NaslError(f"'{path}' is not a latency model (written by nasl latency fit)")
    return model


__all__ = ["features", "fit", "predict_ms", "save", "load"]
