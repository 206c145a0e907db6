"""Benchmark grids: methods × datasets × seeds, from a YAML file or CLI lists, as a list of run specs.

A config file (``benchmarks/configs/*.yaml``)::

    name: reproduction                 # output files: <name>.jsonl, <name>_tables.md, <name>.csv
    description: Every method on ...   # shown at the top of the report
    seeds: 10                          # 10 -> seeds 0..9; or an explicit list [0, 1, 5]
    datasets: [cora, citeseer, usps]   # catalog names (``graphclust datasets``)
    methods: [kmeans, dec, sdcn]       # registry names (``graphclust methods``)
    params:                            # per-method parameters beyond the defaults, every dataset
      dec: {pretrain_epochs: 50}
    overrides:                         # per-(dataset, method) changes, applied in order
      - dataset: citeseer              # a name, a list of names, or "*"
        method: [sdcn, sdcn_q]
        params: {lr: 1.0e-4}
        reason: lr 1e-4 on CiteSeer as stated by Bo et al. (2020), Sec. 4.3
      - dataset: [mnist]
        method: sdcn
        seeds: 3                       # fewer seeds: a reason is required
        reason: one seed takes about an hour on 2 cores
      - dataset: mnist
        method: daegc
        skip: true                     # not run: a reason is required, shown in the report
        reason: ...
    share_pretraining: [dec, idec]     # or true (every AE-based method): one AE per (dataset, seed, schedule)
    monitor: true                      # pass labels to fit for per-epoch curves (never changes results)
    save_embeddings: first             # first | all | none: which seeds keep a subsampled embedding
    device: cpu
    threads: 1                         # torch intra-op threads
    tsne_points: 5000                  # points per t-SNE scatter (<= 5000)
    report: REPRODUCTION.md            # report file name (default <name>.md)
    reference: my_papers.yaml          # published numbers (default graphclust/bench/papers.yaml)
    notes: [free text shown in the report]
    import_legacy: [graph_methods.jsonl]   # before running, take over the finished runs of this grid
                                       # from these JSONL files of benchmarks/reproduce_*.py, looked up
                                       # in the output folder (same as --import-legacy)

Every run spec is ``(dataset, method, seed, params)``; its key adds a hash of the params, so the
same method with other parameters is another run, and a rerun skips the keys already recorded.
"""
from __future__ import annotations

import hashlib
import json
import numbers
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

__all__ = ["RunSpec", "Grid", "load_config", "build_grid", "grid_from_lists", "params_hash",
           "canonical_method", "canonical_dataset", "with_params"]

# Set by the harness for every run, so a config may not set them.
RESERVED_PARAMS = ("random_state", "verbose", "device", "pretrained")
EMBEDDING_MODES = ("first", "all", "none")
TOP_LEVEL_KEYS = ("name", "description", "seeds", "datasets", "methods", "params", "overrides",
                  "share_pretraining", "monitor", "save_embeddings", "device", "threads", "tsne_points",
                  "data_root", "report", "reference", "notes", "import_legacy")
OVERRIDE_KEYS = ("dataset", "method", "params", "seeds", "skip", "reason")
MAX_EMBEDDING_ROWS = 5000
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


@dataclass
class RunSpec:
    """One run of the grid: ``method`` on ``dataset`` with ``random_state=seed`` and ``params``.

    ``shared_pretraining`` marks an AE-based method whose autoencoder the runner pretrains once
    per (dataset, seed, AE schedule) and hands over through ``pretrained=``; it is part of the
    key, because later random draws differ from a run that pretrains by itself.
    """

    dataset: str
    method: str
    seed: int
    params: dict = field(default_factory=dict)
    shared_pretraining: bool = False

    @property
    def params_hash(self) -> str:
        return params_hash(self.params, self.shared_pretraining)

    @property
    def key(self) -> tuple[str, str, int, str]:
        return (self.dataset, self.method, self.seed, self.params_hash)

    @property
    def group(self) -> tuple[str, str, str]:
        """The (dataset, method, params hash) whose seeds make one row of the tables."""
        return (self.dataset, self.method, self.params_hash)


@dataclass
class Grid:
    """The runs of a benchmark and what was left out of it, with the reasons.

    Attributes:
        name: base name of the output files.
        specs: ordered by dataset, then seed, then method (so a dataset is loaded once and a
            shared autoencoder serves every method of a seed).
        skipped: ``{"dataset", "method", "reason"}`` for pairs listed but not run.
        reduced: ``{"dataset", "method", "seeds", "reason"}`` for pairs run with other seeds than
            the default.
        settings: the run settings (device, threads, monitor, ...), defaults filled in.
        config: the config as given (for the report).
        source: the config file, when there was one.
    """

    name: str
    specs: list[RunSpec]
    datasets: list[str]
    methods: list[str]
    seeds: list[int]
    skipped: list[dict] = field(default_factory=list)
    reduced: list[dict] = field(default_factory=list)
    settings: dict = field(default_factory=dict)
    config: dict = field(default_factory=dict)
    source: str | None = None

    def filter(self, methods=None, datasets=None, seeds=None) -> "Grid":
        """The part of the grid on these methods / datasets / seeds (``None`` keeps all)."""
        keep_m = None if methods is None else {canonical_method(m) for m in _as_list(methods, "methods")}
        keep_d = None if datasets is None else {canonical_dataset(d) for d in _as_list(datasets, "datasets")}
        keep_s = None if seeds is None else set(_parse_seeds(seeds, "seeds"))
        for wanted, have, what in ((keep_m, self.methods, "method"), (keep_d, self.datasets, "dataset")):
            if wanted is not None and not wanted <= set(have):
                raise ValueError(f"{what}(s) {sorted(wanted - set(have))} are not in grid {self.name!r} "
                                 f"(its {what}s: {', '.join(have)})")

        def kept(dataset, method, seed=None):
            return ((keep_m is None or method in keep_m) and (keep_d is None or dataset in keep_d)
                    and (seed is None or keep_s is None or seed in keep_s))

        return replace(
            self,
            specs=[s for s in self.specs if kept(s.dataset, s.method, s.seed)],
            datasets=[d for d in self.datasets if keep_d is None or d in keep_d],
            methods=[m for m in self.methods if keep_m is None or m in keep_m],
            seeds=[s for s in self.seeds if keep_s is None or s in keep_s],
            skipped=[e for e in self.skipped if kept(e["dataset"], e["method"])],
            reduced=[e for e in self.reduced if kept(e["dataset"], e["method"])],
        )

    def first_seeds(self) -> dict[tuple[str, str, str], int]:
        """The lowest seed of each (dataset, method, params hash): the run whose embedding is kept."""
        first: dict[tuple[str, str, str], int] = {}
        for spec in self.specs:
            first[spec.group] = min(first.get(spec.group, spec.seed), spec.seed)
        return first


# --------------------------------------------------------------------------- names and values


def canonical_method(name) -> str:
    """The registry key of ``name`` (``SDCN-Q`` -> ``sdcn_q``); ``ValueError`` lists valid names."""
    from ..registry import get_method

    get_method(name)
    return name.strip().lower().replace("-", "_").replace("+", "_")


def canonical_dataset(name) -> str:
    """The catalog name of ``name`` (aliases resolved); ``ValueError`` lists valid names."""
    from ..data import dataset_info

    return dataset_info(name)["name"]


def _canonical_value(value, where: str):
    """YAML/CLI value -> JSON-like value: tuples become lists, '1e-4' strings become floats."""
    if isinstance(value, (list, tuple)):
        return [_canonical_value(v, where) for v in value]
    if isinstance(value, dict):
        return {str(k): _canonical_value(v, where) for k, v in value.items()}
    if isinstance(value, str) and _NUMBER.match(value.strip()):
        text = value.strip()  # YAML 1.1 reads 1e-4 (no dot) as a string
        return float(text) if any(c in text for c in ".eE") else int(text)
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    raise ValueError(f"{where}: value {value!r} of type {type(value).__name__} is not a number, string, "
                     "boolean, null or list")


def params_hash(params: dict, shared_pretraining: bool = False) -> str:
    """A short, stable hash of ``params`` (key order and tuple/list do not matter)."""
    material = {"params": _canonical_value(params, "params")}
    if shared_pretraining:
        material["shared_pretraining"] = True
    text = json.dumps(material, sort_keys=True, separators=(",", ":"))
    return hashlib.sha1(text.encode()).hexdigest()[:10]


def _as_list(value, where: str) -> list:
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, (list, tuple)):
        return list(value)
    raise ValueError(f"{where}: expected a name or a list of names, got {value!r}")


def _parse_seeds(value, where: str) -> list[int]:
    """``10`` -> [0..9]; ``[0, 3]`` or ``"0,3"`` -> those seeds."""
    if isinstance(value, bool):
        raise ValueError(f"{where}: expected a number of seeds or a list of seeds, got {value!r}")
    if isinstance(value, numbers.Integral):
        if value < 1:
            raise ValueError(f"{where}: the number of seeds must be >= 1, got {value}")
        return list(range(int(value)))
    items = _as_list(value, where) if isinstance(value, (str, list, tuple)) else None
    if not items:
        raise ValueError(f"{where}: expected a number of seeds or a non-empty list of seeds, got {value!r}")
    seeds = []
    for item in items:
        try:
            seed = int(item)
        except (TypeError, ValueError):
            raise ValueError(f"{where}: seed {item!r} is not an integer") from None
        if seed < 0 or (isinstance(item, float) and item != seed):
            raise ValueError(f"{where}: seeds must be non-negative integers, got {item!r}")
        seeds.append(seed)
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"{where}: repeated seeds in {seeds}")
    return seeds


def _check_params(method: str, params, where: str) -> dict:
    from ..registry import get_method

    if params is None:
        return {}
    if not isinstance(params, dict):
        raise ValueError(f"{where}: params must be a mapping of parameter: value, got {params!r}")
    reserved = sorted(set(params) & set(RESERVED_PARAMS))
    if reserved:
        raise ValueError(f"{where}: {reserved} are set by the benchmark harness (seeds, settings), not per run")
    valid = set(get_method(method)._param_names())
    unknown = sorted(set(params) - valid)
    if unknown:
        raise ValueError(f"{where}: unknown parameter(s) {unknown} for method {method!r}; "
                         f"valid: {sorted(valid - set(RESERVED_PARAMS))}")
    return {str(k): _canonical_value(v, f"{where}: {k}") for k, v in params.items()}


def _select(value, universe: list[str], canon, where: str, what: str) -> list[str]:
    if value is None:
        raise ValueError(f"{where}: needs a '{what}' (a name, a list of names, or '*')")
    if value == "*":
        return list(universe)
    names = [canon(v) for v in _as_list(value, f"{where}: {what}")]
    outside = [n for n in names if n not in universe]
    if outside:
        raise ValueError(f"{where}: {what}(s) {outside} are not in the grid's {what}s ({', '.join(universe)})")
    return names


# --------------------------------------------------------------------------- building grids


def load_config(path) -> dict:
    """Read a benchmark config (YAML); errors name the file."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"benchmark config not found: {path}")
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise ValueError(f"{path}: not valid YAML: {err}") from None
    if not isinstance(config, dict):
        raise ValueError(f"{path}: expected a mapping at the top level, got {type(config).__name__}")
    return config


def build_grid(config: dict, source=None) -> Grid:
    """Validate ``config`` (see the module docstring) and expand it into run specs.

    Raises:
        ValueError: unknown key, method, dataset or parameter, a parameter the harness sets,
            fewer seeds or a skip without a reason; the message names where in the config.
    """
    where = str(source) if source else "config"
    unknown = sorted(set(config) - set(TOP_LEVEL_KEYS))
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {unknown}; valid: {list(TOP_LEVEL_KEYS)}")
    for key in ("datasets", "methods"):
        if not config.get(key):
            raise ValueError(f"{where}: '{key}' is required (a list of names)")
    name = str(config.get("name") or (Path(source).stem if source else "bench"))
    if not re.match(r"^[A-Za-z0-9_.-]+$", name):
        raise ValueError(f"{where}: name {name!r} must be letters, digits, '_', '-', '.' (it names files)")
    datasets = list(dict.fromkeys(canonical_dataset(d) for d in _as_list(config["datasets"], f"{where}: datasets")))
    methods = list(dict.fromkeys(canonical_method(m) for m in _as_list(config["methods"], f"{where}: methods")))
    seeds = _parse_seeds(config.get("seeds", 10), f"{where}: seeds")
    settings = _settings(config, where)

    base_params: dict[str, dict] = {}
    for method, params in (config.get("params") or {}).items():
        key = canonical_method(method)
        if key not in methods:
            raise ValueError(f"{where}: params for {method!r}, which is not in the grid's methods "
                             f"({', '.join(methods)})")
        base_params[key] = _check_params(key, params, f"{where}: params.{method}")

    # (dataset, method) -> {"params", "seeds", "skip" (its reason), "seed_reason"}
    cells = {(d, m): {"params": dict(base_params.get(m, {})), "seeds": seeds, "skip": None, "seed_reason": ""}
             for d in datasets for m in methods}
    for i, entry in enumerate(config.get("overrides") or []):
        at = f"{where}: overrides[{i}]"
        if not isinstance(entry, dict):
            raise ValueError(f"{at}: expected a mapping, got {entry!r}")
        bad = sorted(set(entry) - set(OVERRIDE_KEYS))
        if bad:
            raise ValueError(f"{at}: unknown key(s) {bad}; valid: {list(OVERRIDE_KEYS)}")
        reason = entry.get("reason")
        if reason is not None and not (isinstance(reason, str) and reason.strip()):
            raise ValueError(f"{at}: reason must be a non-empty string")
        on_d = _select(entry.get("dataset"), datasets, canonical_dataset, at, "dataset")
        on_m = _select(entry.get("method"), methods, canonical_method, at, "method")
        own_seeds = None if "seeds" not in entry else _parse_seeds(entry["seeds"], f"{at}: seeds")
        skip = entry.get("skip", False)
        if not isinstance(skip, bool):
            raise ValueError(f"{at}: skip must be true or false, got {skip!r}")
        if (skip or (own_seeds is not None and not set(seeds) <= set(own_seeds))) and not reason:
            raise ValueError(f"{at}: skipping a pair or running it with fewer seeds needs a 'reason'")
        for method in on_m:
            params = _check_params(method, entry.get("params"), at)
            for dataset in on_d:
                cell = cells[(dataset, method)]
                cell["params"].update(params)
                if own_seeds is not None:
                    cell["seeds"], cell["seed_reason"] = own_seeds, reason or ""
                if skip:
                    cell["skip"] = reason

    share = _shared_methods(settings["share_pretraining"], methods, where)
    specs, skipped, reduced = [], [], []
    for dataset in datasets:
        for method in methods:
            cell = cells[(dataset, method)]
            if cell["skip"]:
                skipped.append({"dataset": dataset, "method": method, "reason": cell["skip"]})
            elif cell["seeds"] != seeds:
                reduced.append({"dataset": dataset, "method": method, "seeds": cell["seeds"],
                                "reason": cell["seed_reason"]})
        all_seeds = sorted({s for m in methods for s in cells[(dataset, m)]["seeds"]})
        for seed in all_seeds:
            for method in methods:
                cell = cells[(dataset, method)]
                if cell["skip"] or seed not in cell["seeds"]:
                    continue
                specs.append(RunSpec(dataset, method, seed, dict(cell["params"]), shared_pretraining=method in share))
    return Grid(name=name, specs=specs, datasets=datasets, methods=methods, seeds=seeds, skipped=skipped,
                reduced=reduced, settings=settings, config=dict(config),
                source=None if source is None else str(source))


def grid_from_lists(methods, datasets, seeds=10, params: dict | None = None, *, name: str = "bench",
                    **settings) -> Grid:
    """A grid from CLI-style lists: ``grid_from_lists("kmeans,sdcn", "cora,usps", 10)``.

    ``params`` go to every method that accepts them; a ``method:key`` name targets one method.
    A parameter no method accepts is an error.
    """
    method_names = [canonical_method(m) for m in _as_list(methods, "methods")]
    config = {"name": name, "methods": method_names, "datasets": _as_list(datasets, "datasets"), "seeds": seeds,
              **{k: v for k, v in settings.items() if v is not None}}
    return build_grid(with_params(config, params or {}))


def with_params(config: dict, params: dict) -> dict:
    """``config`` with ``params`` (CLI ``--param``) added for every dataset, as overrides after its own.

    A plain ``key`` goes to every method of the config that accepts it (an error when none does);
    ``method:key`` to that method only.
    """
    from ..registry import get_method

    methods = [canonical_method(m) for m in _as_list(config.get("methods") or [], "methods")]
    extra = []
    for key, value in params.items():
        if ":" in key:
            method, param = (part.strip() for part in key.split(":", 1))
            method = canonical_method(method)
            if method not in methods:
                raise ValueError(f"--param {key}: method {method!r} is not in the grid ({', '.join(methods)})")
            extra.append({"dataset": "*", "method": [method], "params": {param: value}})
            continue
        takers = [m for m in methods if key in get_method(m)._param_names()]
        if key in RESERVED_PARAMS or not takers:
            raise ValueError(f"--param {key}: no method among {methods} accepts it"
                             + (" (the harness sets it)" if key in RESERVED_PARAMS else ""))
        extra.append({"dataset": "*", "method": takers, "params": {key: value}})
    if not extra:
        return config
    return {**config, "overrides": list(config.get("overrides") or []) + extra}


def _accepts_pretrained(method: str) -> bool:
    from ..registry import get_method

    return "pretrained" in get_method(method)._param_names()


def _shared_methods(value, methods: list[str], where: str) -> set[str]:
    """``share_pretraining``: true (every method of the grid with ``pretrained=``), false, or a list."""
    if value is True:
        return {m for m in methods if _accepts_pretrained(m)}
    if value is False or value is None:
        return set()
    names = [canonical_method(m) for m in _as_list(value, f"{where}: share_pretraining")]
    cannot = [m for m in names if not _accepts_pretrained(m)]
    if cannot:
        raise ValueError(f"{where}: share_pretraining lists {cannot}, which take no pretrained autoencoder")
    return {m for m in names if m in methods}


def _settings(config: dict, where: str) -> dict:
    settings = {
        "description": str(config.get("description") or "").strip(),
        "share_pretraining": config.get("share_pretraining", False),
        "monitor": config.get("monitor", True),
        "save_embeddings": config.get("save_embeddings", "first"),
        "device": str(config.get("device", "cpu")),
        "threads": config.get("threads"),
        "tsne_points": config.get("tsne_points", MAX_EMBEDDING_ROWS),
        "data_root": config.get("data_root"),
        "report": config.get("report"),
        "reference": config.get("reference"),
        "notes": config.get("notes") or [],
        "import_legacy": config.get("import_legacy") or [],
    }
    if not isinstance(settings["monitor"], bool):
        raise ValueError(f"{where}: monitor must be true or false, got {settings['monitor']!r}")
    if not isinstance(settings["share_pretraining"], (bool, list, str)):
        raise ValueError(f"{where}: share_pretraining must be true, false or a list of methods, "
                         f"got {settings['share_pretraining']!r}")
    if settings["save_embeddings"] not in EMBEDDING_MODES:
        raise ValueError(f"{where}: save_embeddings must be one of {EMBEDDING_MODES}, "
                         f"got {settings['save_embeddings']!r}")
    threads = settings["threads"]
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
        raise ValueError(f"{where}: threads must be a positive integer, got {threads!r}")
    points = settings["tsne_points"]
    if isinstance(points, bool) or not isinstance(points, int) or not 10 <= points <= MAX_EMBEDDING_ROWS:
        raise ValueError(f"{where}: tsne_points must be an integer in [10, {MAX_EMBEDDING_ROWS}], got {points!r}")
    report = settings["report"]
    if report is not None and (not isinstance(report, str) or "/" in report or not report.endswith(".md")):
        raise ValueError(f"{where}: report must be a file name ending in .md, got {report!r}")
    legacy = settings["import_legacy"]
    legacy = [legacy] if isinstance(legacy, str) else legacy
    if not isinstance(legacy, list) or not all(isinstance(p, str) and p.endswith(".jsonl") for p in legacy):
        raise ValueError(f"{where}: import_legacy must be a list of .jsonl file names, got {legacy!r}")
    settings["import_legacy"] = legacy
    notes = settings["notes"]
    if isinstance(notes, str):
        settings["notes"] = [notes]
    elif not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
        raise ValueError(f"{where}: notes must be a list of strings")
    return settings
