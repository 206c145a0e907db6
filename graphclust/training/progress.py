"""Progress bars that stay readable in log files.

On a terminal a tqdm bar redraws in place; redirected to a file (``nohup ... > log``) every
redraw becomes another line, thousands of them over a long run. :func:`progress_bar` keeps
tqdm's behaviour on a terminal and refreshes at most every ``LOG_INTERVAL_S`` seconds otherwise.
"""
from __future__ import annotations

import sys

from tqdm.auto import tqdm

LOG_INTERVAL_S = 30.0  # seconds between two lines of a bar written to a file


def progress_bar(*args, **kwargs) -> tqdm:
    """``tqdm(*args, **kwargs)``, refreshed every ``LOG_INTERVAL_S`` s when stderr is not a terminal."""
    stream = kwargs.get("file") or sys.stderr
    if not getattr(stream, "isatty", lambda: False)():
        kwargs.setdefault("mininterval", LOG_INTERVAL_S)
    return tqdm(*args, **kwargs)
