"""Reading what a user hands nasl: text files with a size cap, and JSON that cannot crash the reader.

``/dev/zero``, a log file given by mistake or a hostile upload would
otherwise be read whole into memory (gigabytes), so every file nasl reads
for a user is capped: :data:`MAX_SOURCE_BYTES` for ``.nas`` sources and
:data:`MAX_JSON_BYTES` for ``--arch @FILE`` and presets files. Python's own
JSON reader raises ``RecursionError`` on deeply nested arrays and
``ValueError`` on integers past its 4,300-digit string limit; :func:`load_json`
turns both into a :class:`NaslError`. It adds nothing to the happy path, as
searcher snapshots read many architectures through it.
"""
from __future__ import annotations

import json
import os
import sys

from nasl.ir.errors import NaslError

MAX_SOURCE_BYTES = 4 * 1024 * 1024     # a .nas file: the largest shipped space is ~5 KB
MAX_JSON_BYTES = 8 * 1024 * 1024       # --arch @FILE, presets files
_BOM = "\ufeff"


def _mib(n: int) -> str:
    return f"{n // (1024 * 1024)} MiB" if n >= 1024 * 1024 else f"{n:,} bytes"


def read_text(path: str, what: str, limit: int) -> str:
    """The UTF-8 text of ``path`` (a leading byte-order mark dropped, as Python does for source files).

    Reads at most ``limit`` + 1 bytes, so a huge file or a device costs no
    more memory than the cap. ``what`` names the file in errors ("the
    architecture file")."""
    try:
        with open(path, "rb") as f:
            data = _read_capped(f, limit)
    except OSError as e:
        raise NaslError(f"cannot read {what} '{path}': {e.strerror or e}") from None
    if len(data) > limit:
        raise NaslError(f"{what} '{path}' is larger than {_mib(limit)}, the most nasl reads")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise NaslError(f"{what} '{path}' is not UTF-8 text ({e.reason} at byte {e.start})") from None
    return strip_bom(text)


def _read_capped(f, limit: int) -> bytes:
    """At most ``limit`` + 1 bytes of ``f``.

    ``f.read(n)`` reserves n bytes before reading, so one read of the cap
    put a 4 MiB transient into every ``nasl.load`` (the peak of loading a
    5 KB file: BENCHMARKS.md section 57). The first read is sized by the
    file's length; a device or a growing file goes on in 64 KiB reads."""
    step = min(limit + 1, max(os.fstat(f.fileno()).st_size, 0) + 1)
    chunks, total = [], 0
    while total <= limit:
        chunk = f.read(min(step, limit + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
        step = 1 << 16
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def strip_bom(text: str) -> str:
    """``text`` without a leading UTF-8 byte-order mark (editors on Windows write one)."""
    return text[1:] if isinstance(text, str) and text.startswith(_BOM) else text     # bytes pass as they are


def load_json(text: str, what: str, error: type = NaslError):
    """``json.loads(text)`` with Python's resource errors as a NaslError naming ``what``.

    A syntax error stays a ``json.JSONDecodeError`` (callers word it with
    its line and column). ``error`` is the NaslError subclass to raise."""
    try:
        return json.loads(strip_bom(text))
    except json.JSONDecodeError:
        raise
    except RecursionError:
        raise error(f"{what} is nested too deeply to read (arrays or objects "
                    f"more than about {sys.getrecursionlimit():,} levels deep)") from None
    except UnicodeDecodeError as e:           # bytes given, not UTF-8
        raise error(f"{what} is not UTF-8 text ({e.reason} at byte {e.start})") from None
    except ValueError as e:
        # the only other ValueError json raises: an int past sys.get_int_max_str_digits()
        raise error(f"{what} holds a number with more than {sys.get_int_max_str_digits():,} digits "
                    f"({e.args[0].split(':')[-1].split(';')[0].strip() or 'too long'})") from None


def int_text(n: int, grouped: bool = False) -> str:
    """``str(n)`` (or ``f"{n:,}"``) for any size: a space's exact size may have more than 4,300 digits.

    Python limits int-to-str conversion to guard servers from quadratic work
    on untrusted input; nasl computed this number itself, so the limit is
    lifted for this one conversion."""
    limit = sys.get_int_max_str_digits()
    if limit == 0 or n.bit_length() < 14_000:      # 14,000 bits < 4,300 digits: the common case
        return f"{n:,}" if grouped else str(n)
    sys.set_int_max_str_digits(0)
    try:
        return f"{n:,}" if grouped else str(n)
    finally:
        sys.set_int_max_str_digits(limit)
