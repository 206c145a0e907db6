"""graphclust.runtime: when the program starts again with glibc's huge-page malloc, and that it does."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from graphclust import runtime

LINUX = dict(platform="linux", glibc=(2, 36), thp_mode="madvise")


def test_the_tunable_is_wanted_only_where_it_changes_something():
    assert runtime.hugepage_malloc_wanted({}, **LINUX)
    assert not runtime.hugepage_malloc_wanted({runtime.OPT_OUT: "0"}, **LINUX)  # opted out
    assert not runtime.hugepage_malloc_wanted({"GLIBC_TUNABLES": "glibc.malloc.hugetlb=1"}, **LINUX)  # set already
    assert runtime.hugepage_malloc_wanted({"GLIBC_TUNABLES": "glibc.malloc.arena_max=2"}, **LINUX)
    assert not runtime.hugepage_malloc_wanted({}, **{**LINUX, "platform": "darwin"})
    assert not runtime.hugepage_malloc_wanted({}, **{**LINUX, "glibc": (2, 34)})  # no such tunable before 2.35
    assert not runtime.hugepage_malloc_wanted({}, **{**LINUX, "thp_mode": "always"})  # huge pages anyway
    assert not runtime.hugepage_malloc_wanted({}, **{**LINUX, "thp_mode": "never"})  # none to be had


SCRIPT = ("import importlib.util, os, sys; "  # the module alone, without importing torch through the package
          f"spec = importlib.util.spec_from_file_location('runtime', {runtime.__file__!r}); "
          "rt = importlib.util.module_from_spec(spec); spec.loader.exec_module(rt); "
          "print('start', flush=True); rt.reexec_with_hugepage_malloc(); "
          "print(os.environ.get('GLIBC_TUNABLES'), sys.argv[1:])")


CLEAN_ENV = {k: v for k, v in os.environ.items() if k not in ("GLIBC_TUNABLES", runtime.OPT_OUT)}


def _run(args, env, stdin=None) -> list[str]:
    return subprocess.run([sys.executable, *args], env=env, input=stdin, capture_output=True, text=True, check=True,
                          timeout=120).stdout.splitlines()


@pytest.mark.skipif(not runtime.hugepage_malloc_wanted(CLEAN_ENV), reason="the re-exec would change nothing here")
def test_the_process_starts_again_once_with_the_tunable_and_its_arguments():
    env = {**CLEAN_ENV, "GLIBC_TUNABLES": "glibc.malloc.arena_max=4"}  # kept
    assert _run(["-c", SCRIPT, "a b", "c"], env) == [
        "start", "start", "glibc.malloc.arena_max=4:glibc.malloc.hugetlb=1 ['a b', 'c']"]
    for off in ("0", "off"):
        assert _run(["-c", SCRIPT], {**env, runtime.OPT_OUT: off}) == ["start", "glibc.malloc.arena_max=4 []"]
    # a script read from stdin cannot be read again: it runs on, once, as it is
    assert _run(["-"], env, stdin=SCRIPT.replace("; ", "\n")) == ["start", "glibc.malloc.arena_max=4 []"]


def test_the_malloc_mode_is_read_from_the_environment():
    assert runtime.malloc_mode({"GLIBC_TUNABLES": "glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1"}) == "hugepages"
    assert runtime.malloc_mode({"GLIBC_TUNABLES": "glibc.malloc.hugetlb=0"}) == "default"
    assert runtime.malloc_mode({}) == "default"
