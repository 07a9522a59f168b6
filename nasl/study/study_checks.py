"""What :func:`nasl.search` checks before a study starts or resumes, so that a bad option fails at once.

Each check raises a one-line :class:`~nasl.ir.errors.NaslError` before the study file is written (a new
study) or before any trial runs (a resumed one). Split from :mod:`nasl.study.api`, which re-exports
``space_check``.
"""
from __future__ import annotations

import json

from nasl.ir.errors import NaslError


def check_model_inputs(recorded: dict, ev) -> None:
    """On resume, an evaluator whose networks take other inputs than the study's would mix two problems."""
    from nasl.study.evaluator_config import record
    now = record(ev)
    for key in ("input_shape", "num_classes"):
        if key in recorded and key in now and json.dumps(recorded[key]) != json.dumps(now[key]):
            raise NaslError(f"cannot resume: the evaluator's {key.replace('_', ' ')} {now[key]} differs from the "
                            f"study's {recorded[key]} (the data changed?)")


def check_resume_evaluator(path, recorded: dict, evaluator, options, cost, trust) -> None:
    """Options given on resume must be the recorded ones; a recorded data module needs approval."""
    from nasl.study import data_files
    from nasl.study.evaluator_config import parse_cost, recorded_options
    if evaluator is not None:
        return
    stored = recorded_options(recorded)
    for name, value in (options or {}).items():
        if name == "data" and isinstance(value, str):
            value = data_files.normalize(value)
        if stored.get(name) != value:
            raise NaslError(f"cannot resume: evaluator option {name}={value!r} differs from the study's "
                            f"{stored.get(name)!r}")
    if cost is not None and parse_cost(cost) != list(recorded.get("cost") or []):
        raise NaslError(f"cannot resume: cost {parse_cost(cost)} differs from the study's {recorded.get('cost') or []}")
    if "data" in stored:
        data_files.approve(f"the study '{path}'", stored["data"], (options or {}).get("data"), trust)


def check_evaluator_space(ev, space_obj) -> None:
    """An evaluator's ``check_space(space)``, if it has one: what would fail every trial fails now."""
    check = getattr(ev, "check_space", None)
    if check is not None:
        check(space_obj)


def make_searcher(config, space_obj):
    from nasl.searchers import create
    from nasl.study.searcher_inputs import resolve_searcher_options
    try:
        return create(config["searcher"], space_obj.spec, seed=config["seed"],
                      **resolve_searcher_options(config["searcher_options"], space_obj))
    except (KeyError, ValueError, TypeError) as e:
        raise NaslError(f"cannot create searcher '{config['searcher']}': {_message(e)}") from None


def _message(e: Exception) -> str:
    return e.args[0] if isinstance(e, KeyError) and e.args else str(e)


def check_searcher(name: str, options) -> None:
    """An unknown searcher or option is refused before the study file is written."""
    from nasl.searchers.registry import options_of, get_searcher
    try:
        cls = get_searcher(name)
    except KeyError as e:
        raise NaslError(_message(e)) from None
    unknown = sorted(set(options) - options_of(cls))
    if unknown:
        raise NaslError(f"searcher '{name}' has no option '{unknown[0]}'; its options: "
                        f"{', '.join(sorted(options_of(cls)))}")


def space_check(config):
    """The space; elaborating it also validates the source and params up front."""
    from nasl.study.protocol import TrialRequest
    req = TrialRequest(trial_id=-1, number=-1, arch={}, budget=None, seed=0, space_source=config["space_source"],
                       space_file=config["space_file"], params=tuple(map(tuple, config["params"])),
                       ops_modules=tuple(config["ops"]))
    return req.load_space()


def refuse_unsatisfiable(space, seed) -> None:
    """A space that no architecture satisfies (or where none can be found) is refused before the study.

    One draw is what a searcher does first; its error names the constraint
    at its position and what was tried, and it is bounded in time.
    """
    space.sample(seed)
