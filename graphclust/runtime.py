"""Process set-up for long runs: transparent huge pages for the large tensors of full-graph steps, and
:func:`file_lock`, the lock by which processes share a file (results appended, a kNN graph built once).

A full-graph step on a large graph allocates and frees tensors of hundreds of MB (MNIST-70k:
[70000, 512] float32 is 143 MB) many times per step. glibc serves every allocation above 32 MB
with a fresh ``mmap``, whose 4 KiB pages the kernel faults in and zeroes one by one on first
touch; an element-wise op on such a tensor then costs several times its arithmetic. With the
glibc tunable ``glibc.malloc.hugetlb=1`` (glibc >= 2.35) malloc asks the kernel for transparent
huge pages (``madvise``), 2 MiB at a time. Measured on one core of a 2-core machine shared
with other runs (2026-12-02, MNIST-70k, ``benchmarks/results/epoch_speed.md``): a full-graph step
of SDDECC's GCN 12.0 s -> 9.8 s, an SDCN epoch 69.3 s -> 52.6 s, the AE alone (its tensors are
smaller) 32.7 s -> 30.8 s; peak RSS at most 7% higher. The GCN's output after two Adam steps is
bit-identical with and without: only where the memory comes from changes.

The tunable is read when the process starts, so :func:`reexec_with_hugepage_malloc` starts the
program again, once, with it set. The ``graphclust`` command and the benchmark scripts do this
first thing. Python API users can set it themselves::

    GLIBC_TUNABLES=glibc.malloc.hugetlb=1 python my_script.py

``GRAPHCLUST_HUGEPAGES=0`` (or ``false``, ``no``, ``off``) turns the re-exec off. Nothing happens off Linux, on glibc older than
2.35, when the kernel's THP mode is ``always`` (every large mapping already gets huge pages) or
``never`` (none can), or when the tunable is already set.
"""
from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

__all__ = ["HUGEPAGE_TUNABLE", "OPT_OUT", "file_lock", "hugepage_malloc_wanted", "malloc_mode",
           "reexec_with_hugepage_malloc"]

HUGEPAGE_TUNABLE = "glibc.malloc.hugetlb=1"
OPT_OUT = "GRAPHCLUST_HUGEPAGES"
_THP_MODE = Path("/sys/kernel/mm/transparent_hugepage/enabled")


def _glibc_version() -> tuple[int, int] | None:
    try:
        name, _, version = os.confstr("CS_GNU_LIBC_VERSION").partition(" ")  # "glibc 2.36"
        major, minor = version.split(".")[:2]
        return (int(major), int(minor)) if name == "glibc" else None
    except (AttributeError, ValueError, OSError):
        return None


def _thp_mode() -> str | None:
    """The kernel's THP mode, the bracketed word of ``always [madvise] never``."""
    try:
        text = _THP_MODE.read_text()
    except OSError:
        return None
    start, end = text.find("["), text.find("]")
    return text[start + 1:end] if 0 <= start < end else None


def hugepage_malloc_wanted(env=None, platform: str | None = None, glibc: tuple[int, int] | None = None,
                           thp_mode: str | None = None) -> bool:
    """Whether starting again with :data:`HUGEPAGE_TUNABLE` would change anything (arguments
    default to this process's environment, platform, glibc version and kernel THP mode)."""
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    if env.get(OPT_OUT, "1").strip().lower() in ("0", "false", "no", "off") \
            or "glibc.malloc.hugetlb" in env.get("GLIBC_TUNABLES", ""):
        return False
    if not platform.startswith("linux"):
        return False
    glibc = _glibc_version() if glibc is None else glibc
    thp_mode = _thp_mode() if thp_mode is None else thp_mode
    return glibc is not None and glibc >= (2, 35) and thp_mode == "madvise"


def malloc_mode(env=None) -> str:
    """``"hugepages"`` when this process runs with :data:`HUGEPAGE_TUNABLE`, else ``"default"``
    (recorded with benchmark timings)."""
    env = os.environ if env is None else env
    return "hugepages" if HUGEPAGE_TUNABLE in env.get("GLIBC_TUNABLES", "").split(":") else "default"


def _restartable() -> bool:
    """Whether starting this process again from the top repeats it: not for a script read from
    stdin (it would find stdin empty) or an interactive session (its state would be lost)."""
    if sys.flags.interactive or hasattr(sys, "ps1") or "ipykernel" in sys.modules or sys.argv[0] in ("", "-"):
        return False
    has_file = getattr(sys.modules.get("__main__"), "__file__", None) is not None  # a script, -m, a program
    return has_file or "-c" in getattr(sys, "orig_argv", [])


def reexec_with_hugepage_malloc() -> None:
    """Replace this process by the same command with :data:`HUGEPAGE_TUNABLE` added to
    ``GLIBC_TUNABLES``, when :func:`hugepage_malloc_wanted` and the process can be started again
    (a program or script, not stdin or an interactive session); otherwise, or if the exec
    fails, return and carry on as before. Meant for programs' entry points only, before any
    work: the process starts again from the top (the tunable in its environment stops a second
    re-exec)."""
    if not hugepage_malloc_wanted() or not _restartable():
        return
    env = dict(os.environ)
    env["GLIBC_TUNABLES"] = ":".join(filter(None, [env.get("GLIBC_TUNABLES"), HUGEPAGE_TUNABLE]))
    argv = list(getattr(sys, "orig_argv", []) or [sys.executable, *sys.argv])
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execve(sys.executable, [sys.executable, *argv[1:]], env)
    except OSError:  # pragma: no cover - e.g. no permission to exec: run as we are
        return


@contextlib.contextmanager
def file_lock(fh):
    """Hold an exclusive ``flock`` on the open file ``fh`` while the block runs, so that processes (or threads with
    their own open file) that share the file take turns (POSIX; elsewhere no lock)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
