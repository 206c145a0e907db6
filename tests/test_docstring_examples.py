"""The examples in the package's docstrings run and print what they show (STYLE: every metric carries a
tiny doctest; a doctest nobody runs can go stale unnoticed)."""
from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

MODULES = ["graphclust.metrics", "graphclust.graphs.knn", "graphclust.data", "graphclust.bench"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
    assert result.attempted > 0 or name == "graphclust.bench"  # bench's example is all +SKIP (it runs a grid)


def test_every_module_with_an_example_is_run():
    package = Path(importlib.import_module("graphclust").__file__).parent
    with_examples = {".".join(path.relative_to(package.parent).with_suffix("").parts).removesuffix(".__init__")
                     for path in package.rglob("*.py") if ">>> " in path.read_text()}
    assert with_examples == set(MODULES)
