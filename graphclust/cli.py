"""Command line: ``graphclust run | methods | datasets | bench``.

    graphclust run                                   # digits -> kNN graph -> default methods
    graphclust run --method dec,idec --dataset usps --seeds 10 --out results.json
    graphclust run --method idec --dataset usps --param pretrain_epochs=50 --param gamma=0.1
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import textwrap
import time
from pathlib import Path

import numpy as np

DEFAULT_METHODS = "kmeans,spectral,gae,daegc"
METRICS = ("acc", "nmi", "ari", "f1")


def _parse_value(text: str):
    """'50' -> 50, '1e-3' -> 0.001, 'true' -> True, '500,500' -> (500, 500), else the string."""
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    if "," in text:
        return tuple(_parse_value(part) for part in text.split(",") if part)
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def _parse_params(items: list[str]) -> dict:
    params = {}
    for item in items:
        if "=" not in item:
            raise ValueError(f"--param expects key=value, got {item!r}")
        key, value = item.split("=", 1)
        params[key.strip()] = _parse_value(value.strip())
    return params


# estimator arguments that `run` sets from its own options, never from --param
_RUN_OPTIONS = {"n_clusters": "--n-clusters", "random_state": "--seeds / --seed-start", "device": "--device",
                "verbose": "--quiet"}


def _check_params(params: dict, methods: list[str]) -> None:
    """Every --param must be taken by at least one of ``methods`` (a typo is an error, not silently
    dropped), and none may be an argument that ``run`` sets from its own options."""
    from .registry import get_method

    for key in params:
        if key in _RUN_OPTIONS:
            raise ValueError(f"--param {key}: set it with {_RUN_OPTIONS[key]}, not --param")
        if not any(key in get_method(name)._param_names() for name in methods):
            valid = sorted(set().union(*(get_method(name)._param_names() for name in methods)) - set(_RUN_OPTIONS))
            raise ValueError(f"--param {key}: no method among {methods} accepts it; valid: {valid}")


def versions() -> dict:
    """Versions of the packages a result depends on, recorded next to every result (faiss: None where it is not
    installed, e.g. on a machine that reads its kNN graphs from a cache; a search that needs it says so)."""
    import sklearn
    import torch
    import torch_geometric

    from . import __version__

    try:
        from .graphs._faiss import faiss_version

        faiss = faiss_version()
    except ImportError:
        faiss = None
    return {"graphclust": __version__, "python": platform.python_version(), "torch": torch.__version__,
            "torch_geometric": torch_geometric.__version__, "faiss": faiss,
            "scikit-learn": sklearn.__version__, "numpy": np.__version__}


def prepare_graph(data, verbose: bool = True):
    """Build the dataset's kNN graph once (from its catalog recipe), so every method shares it (read from
    ``$GRAPHCLUST_GRAPH_CACHE`` where it was stored there: :mod:`graphclust.graphs.cache`)."""
    from .graphs import graph_report
    from .graphs.cache import cached_knn_graph

    recipe = getattr(data, "graph_recipe", None)
    if data.edge_index is None and recipe:
        start = time.perf_counter()
        data.edge_index, data.edge_weight = cached_knn_graph(data.x, random_state=0, verbose=verbose, **recipe)
        if verbose:
            print(f"kNN graph {recipe} ready in {time.perf_counter() - start:.1f}s", file=sys.stderr)
    if data.edge_index is not None and verbose:
        print(graph_report(data.edge_index, data.num_nodes, y=data.y), file=sys.stderr)
    return data


def graph_input(model, data):
    """What ``model`` fits on: ``data`` with the dataset's shared graph, or a copy without edges when
    the method fixes its own kNN graph differently.

    The shared graph of a dataset without a native graph is the kNN graph of its catalog recipe
    (:func:`prepare_graph`). A method that sets ``n_neighbors`` to another k (SDDECC: k = 3 on the
    raw images, its paper's setting, where MNIST's recipe has k = 10; or a user's override) would
    otherwise run on the recipe's graph with its own setting silently ignored. It gets the data
    without edges and builds its graph from the same recipe with its k, exactly as when fitted on
    the raw dataset. Native graphs (Cora, ACM, ...) are always shared.
    """
    import copy

    if data.edge_index is None or not builds_own_graph(model, data):
        return data
    own = copy.copy(data)  # PyG: a new store sharing the tensors
    own.edge_index = own.edge_weight = None
    return own


def builds_own_graph(model, data) -> bool:
    """Whether ``model`` builds its own kNN graph of ``data`` rather than use the shared one of the
    dataset's recipe: it sets ``n_neighbors`` to another k (see :func:`graph_input`)."""
    from .graphs.knn import DEFAULT_NEIGHBORS

    recipe = getattr(data, "graph_recipe", None)
    k = getattr(model, "n_neighbors", None)
    if not recipe or k is None:
        return False
    return k != recipe.get("n_neighbors", DEFAULT_NEIGHBORS)


def format_table(rows: list[dict]) -> str:
    """Markdown table of mean ± std per method."""
    header = "| method | seeds | " + " | ".join(m.upper() for m in METRICS) + " | time (s) |"
    lines = [header, "|" + "---|" * (len(METRICS) + 3)]
    for row in rows:
        cells = [f"{row[m + '_mean']:.4f} ± {row[m + '_std']:.4f}" if m + "_mean" in row else "n/a" for m in METRICS]
        lines.append(f"| {row['method']} | {row['seeds']} | " + " | ".join(cells) + f" | {row['time_mean']:.1f} |")
    return "\n".join(lines)


def summarise(method: str, runs: list[dict]) -> dict:
    row = {"method": method, "seeds": len(runs), "time_mean": float(np.mean([r["time"] for r in runs]))}
    for m in METRICS:
        values = [r[m] for r in runs if m in r]
        if values:
            row[m + "_mean"] = float(np.mean(values))
            row[m + "_std"] = float(np.std(values))
    return row


def cmd_run(args) -> int:
    from .base import check_device
    from .data import load_dataset
    from .metrics import evaluate
    from .registry import get_method, make_method

    methods = [m for m in args.method.split(",") if m]
    for name in methods:
        get_method(name)  # fail fast on a typo, before loading data
    params = _parse_params(args.param)
    _check_params(params, methods)
    check_device(args.device)  # a typo or a missing GPU fails here, not after the data and graph are built
    data = load_dataset(args.dataset, root=args.data_root)
    if data.y is None:
        raise ValueError(f"dataset {args.dataset!r} has no labels to evaluate against")
    n_clusters = args.n_clusters if args.n_clusters is not None else int(data.y.max()) + 1
    print(f"{args.dataset}: {data.num_nodes} samples x {data.x.shape[1]} features, {n_clusters} clusters",
          file=sys.stderr)
    def model(name: str, seed: int):
        own = {k: v for k, v in params.items() if k in get_method(name)._param_names()}
        return make_method(name, n_clusters=n_clusters, random_state=seed, device=args.device,
                           verbose=not args.quiet, **own)

    # the shared kNN graph is built only when a method will run on it (MNIST: about 2 minutes)
    if any(get_method(name).uses_graph and not builds_own_graph(model(name, 0), data) for name in methods):
        data = prepare_graph(data, verbose=not args.quiet)
    y = data.y.numpy()
    record = {"dataset": args.dataset, "n_clusters": n_clusters, "versions": versions(), "runs": [], "summary": []}
    for name in methods:
        runs = []
        for seed in range(args.seed_start, args.seed_start + args.seeds):
            estimator = model(name, seed)
            features = graph_input(estimator, data)
            if builds_own_graph(estimator, data) and seed == args.seed_start and not args.quiet:
                print(f"  {name}: builds its own {estimator.n_neighbors}-NN graph (the dataset's recipe has another k)",
                      file=sys.stderr)
            start = time.perf_counter()
            labels = estimator.fit_predict(features)
            elapsed = time.perf_counter() - start
            scores = evaluate(y, labels)
            run = {"method": name, "seed": seed, "time": elapsed, **scores, "params": repr(estimator)}
            runs.append(run)
            record["runs"].append(run)
            print(f"  {name} seed {seed}: " + " ".join(f"{m}={scores[m]:.4f}" for m in METRICS)
                  + f" ({elapsed:.1f}s)", file=sys.stderr)
        record["summary"].append(summarise(name, runs))
        if args.out:  # written after every method so an interrupted run keeps what finished
            Path(args.out).write_text(json.dumps(record, indent=2, default=str))
    print(format_table(record["summary"]))
    return 0


def cmd_methods(args) -> int:
    from .registry import METHODS

    for name, cls in sorted(METHODS.items()):
        head = f"{name:12s} {cls.__name__:12s} {'graph' if cls.uses_graph else 'features':8s}  "
        summary = " ".join((cls.__doc__ or "").strip().split("\n\n")[0].split())  # the docstring's first paragraph
        print(textwrap.fill(summary, width=120, initial_indent=head, subsequent_indent=" " * len(head)))
    return 0


def cmd_datasets(args) -> int:
    from .data import data_root, dataset_available, dataset_info, list_datasets

    root = data_root(args.data_root)
    print(f"data root: {root}")
    for name in list_datasets():
        info = dataset_info(name)
        present = dataset_available(name, root)
        shape = f"{info.get('n_samples', '?')} x {info.get('n_features', '?')}"
        print(f"{name:15s} {info.get('kind', ''):8s} {shape:>14s}  classes={info.get('n_classes', '?')!s:3s} "
              f"{'available' if present else 'missing'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="graphclust", description="Graph-centric deep clustering")
    sub = parser.add_subparsers(dest="command")
    run = sub.add_parser(
        "run", help="cluster a dataset with one or more methods over several seeds",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Cluster one dataset with each method over the same seeds; print each seed's ACC / NMI / ARI / "
                    "F1\nand every method's mean ± std (final models: no epoch or seed is chosen by the labels).\n\n"
                    "    graphclust run                                    # digits (embedded), 4 methods, 3 seeds\n"
                    "    graphclust run --method dec,idec --dataset usps --seeds 10 --data-root ../shared/data\n"
                    "    graphclust run --method idec --dataset usps --param pretrain_epochs=50 --param gamma=0.1")
    run.add_argument("--method", default=DEFAULT_METHODS, help=f"comma-separated methods (default {DEFAULT_METHODS})")
    run.add_argument("--dataset", default="digits", help="dataset name from `graphclust datasets` (default digits)")
    run.add_argument("--seeds", type=int, default=3, help="number of seeds (default 3)")
    run.add_argument("--seed-start", type=int, default=0, help="first seed (default 0)")
    run.add_argument("--n-clusters", type=int, default=None, help="default: number of classes")
    run.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto")
    run.add_argument("--data-root", default=None,
                     help="data folder (default $GRAPHCLUST_DATA, else the repository's datasets/)")
    run.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                     help="hyperparameter for the methods that accept it (repeatable)")
    run.add_argument("--out", default=None, help="write per-seed results and the summary as JSON")
    run.add_argument("--quiet", action="store_true", help="no progress bars")
    run.set_defaults(func=cmd_run)
    methods = sub.add_parser("methods", help="list the registered methods")
    methods.set_defaults(func=cmd_methods)
    datasets = sub.add_parser("datasets", help="list the catalog and which datasets are available")
    datasets.add_argument("--data-root", default=None,
                          help="data folder (default $GRAPHCLUST_DATA, else the repository's datasets/)")
    datasets.set_defaults(func=cmd_datasets)
    from .bench.cli import add_bench_parser

    add_bench_parser(sub)
    return parser


def console_main() -> int:
    """The ``graphclust`` program: first start again with huge pages for large tensors where that
    helps (:mod:`graphclust.runtime`), then :func:`main`. Code that calls :func:`main` itself is
    never restarted."""
    from .runtime import reexec_with_hugepage_malloc

    reexec_with_hugepage_malloc()
    return main()


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    if getattr(args, "seeds", 1) < 1:
        parser.error(f"--seeds must be >= 1, got {args.seeds}")
    if getattr(args, "n_clusters", None) is not None and args.n_clusters < 2:
        parser.error(f"--n-clusters must be >= 2, got {args.n_clusters}")
    try:
        return args.func(args)
    except (ValueError, TypeError, FileNotFoundError) as err:
        print(f"graphclust: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(console_main())
