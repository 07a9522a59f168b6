"""The inline runner's timeout: ``SIGALRM``, delivered only where it cannot poison the process.

An exception raised by a signal handler lands at whatever bytecode runs.
Landing inside an import leaves a half-initialised module in
``sys.modules`` (``module 'torch._dynamo' has no attribute 'utils'``), and
every later trial, and every later study in the same process, then fails
with ``ImportError``. Landing in nasl's own code between arming the timer
and evaluating, or between the evaluator's return and disarming, loses the
trial's outcome. Landing in a trainer's ``finally`` leaves torch's global
settings (threads, deterministic kernels) changed.

So the handler raises :class:`TrialTimeout` only

- while the evaluator runs (:func:`interruptible`, held by
  :func:`~nasl.study.evaluators.run_trial` around the call alone),
- outside any :func:`protected` section (nasl's trainer holds one over its
  whole trial and calls :func:`checkpoint` between training steps, so its
  timeout comes between steps),
- and outside any import (a frame of ``importlib._bootstrap`` on the stack).

Anywhere else it notes the expiry and, unless a protected section will
deliver it on exit, fires again :data:`RETRY_S` later. A trial that
overran is failed even if the evaluator swallowed the exception.

Everything here is a no-op outside :func:`armed` and in other threads, so
process, Ray and thread-pool workers pay one ``get_ident`` per call.
"""
from __future__ import annotations

import contextlib
import signal
import threading

RETRY_S = 0.005          # how soon a deferred alarm tries again


class TrialTimeout(BaseException):
    """The inline timeout expired. A BaseException, so an evaluator's ``except Exception`` lets it through."""


class _State:
    __slots__ = ("thread", "open", "protected", "expired")

    def __init__(self):
        self.thread = None       # the thread whose trial is armed; None when disarmed
        self.open = 0            # > 0 while the evaluator runs
        self.protected = 0       # > 0 inside protected sections
        self.expired = False     # the deadline has passed


_s = _State()


def _mine() -> bool:
    return _s.thread is not None and _s.thread == threading.get_ident()


def _importing(frame) -> bool:
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib._bootstrap"):
            return True
        frame = frame.f_back
    return False


def _on_alarm(signum, frame):
    s = _s
    if s.thread is None:             # being disarmed: nothing to deliver, and never re-arm
        return
    s.expired = True
    if s.protected:                  # the section's end or its next checkpoint delivers it
        return
    if s.open and not _importing(frame):
        raise TrialTimeout()
    signal.setitimer(signal.ITIMER_REAL, RETRY_S)


def available() -> bool:
    """Whether an inline timeout can be armed here (Unix, the main thread)."""
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def armed(seconds: float):
    """Run the block with a deadline ``seconds`` away; the evaluator in it gets :class:`TrialTimeout`."""
    saved = (_s.thread, _s.open, _s.protected, _s.expired)
    _s.thread, _s.open, _s.protected, _s.expired = threading.get_ident(), 0, 0, False
    old = signal.signal(signal.SIGALRM, _on_alarm)
    try:
        signal.setitimer(signal.ITIMER_REAL, seconds)
        yield
    finally:
        _s.thread = None             # first: a late alarm now neither raises nor re-arms
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        _s.thread, _s.open, _s.protected, _s.expired = saved


class _Interruptible:
    """Held around the evaluator call: the only place where the alarm may raise at once."""

    def __enter__(self):
        if _mine():
            _s.open += 1
        return self

    def __exit__(self, kind, value, tb):
        if _mine():
            _s.open -= 1
            if kind is None and _s.expired:
                raise TrialTimeout()         # it overran and swallowed the alarm, or returned in the gap
        return False


class _Protected:
    """A section the alarm does not interrupt; an expiry inside it is raised at its end."""

    def __enter__(self):
        if _mine():
            _s.protected += 1
        return self

    def __exit__(self, kind, value, tb):
        if _mine():
            _s.protected -= 1
            if kind is None and not _s.protected and _s.open and _s.expired:
                raise TrialTimeout()
        return False


def interruptible() -> _Interruptible:
    return _Interruptible()


def protected() -> _Protected:
    """``with protected():`` code that must run to its end (global state, imports, files)."""
    return _Protected()


def checkpoint() -> None:
    """A safe point inside a protected section: raise :class:`TrialTimeout` if the deadline has passed."""
    if _s.expired and _s.open and _mine():
        raise TrialTimeout()
