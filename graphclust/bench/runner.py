"""Run a benchmark grid: each finished run appended at once to a JSONL file; a rerun skips what is done.

One record per run (one JSON line)::

    key, status ("ok" | "failed"), dataset, method, seed, params, params_hash,
    metrics          {acc, nmi, ari, f1, modularity, conductance} of the final model (headline),
    "best_epoch_acc (label-selected, comparison only)", best_epoch,
                     max of the monitored per-epoch ACC: what papers that pick the best epoch by
                     ACC report; a comparison figure only, never a result,
    time_s, peak_rss_mib, peak_rss_scope, n_clusters, n_samples, epochs_run,
    config           model.get_params() made JSON-safe, with the class name,
    history          per-epoch dicts (losses; monitored metrics when labels were passed),
    embedding        path of the subsampled float16 embedding (.npz) relative to the JSONL, or None,
    pretraining      {"shared": true, "time_s", "cache_hit"} when the AE was shared,
    graph            only when the method built its own kNN graph (see below),
    versions, device, monitored, started, error / traceback (failed runs).

Every method of a dataset sees the same graph (built once per dataset by
:func:`graphclust.cli.prepare_graph`) and the same seeds; the one exception is a method that sets
its own kNN ``n_neighbors`` to another k than the dataset's recipe (SDDECC's k = 3 on MNIST and
Fashion-MNIST, whose recipe has k = 10): it builds that graph itself, as when fitted alone
(:func:`graphclust.cli.graph_input`). Graph metrics (modularity, conductance) are measured on the
shared graph for every method. Labels are passed to ``fit`` only to
log monitoring metrics: they never change the result (tested), and the headline metrics are
those of the final model.
"""
from __future__ import annotations

import copy
import datetime as _dt
import hashlib
import json
import math
import os
import platform
import resource
import shutil
import time
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..runtime import file_lock
from .grid import MAX_EMBEDDING_ROWS, Grid, RunSpec

__all__ = ["BEST_EPOCH_KEY", "RunSummary", "run_grid", "run_spec", "fit_spec", "fit_resumable", "read_records",
           "append_record", "done_keys", "checkpoint_path", "checkpoint_progress", "config_changes", "stale_runs",
           "describe_stale", "record_key", "jsonl_path", "json_safe", "model_config", "device_info",
           "embedding_sample", "import_legacy", "legacy_records", "status_kib", "reset_peak_rss", "peak_rss_mib"]

BEST_EPOCH_KEY = "best_epoch_acc (label-selected, comparison only)"


# --------------------------------------------------------------------------- the JSONL file


def jsonl_path(out_dir, name: str) -> Path:
    return Path(out_dir) / f"{name}.jsonl"


def read_records(path) -> list[dict]:
    """Every record of a JSONL results file, in file order (none if it does not exist).

    A line that is not valid JSON (the tail of a run killed while writing) is skipped with a
    warning; the next append starts on a fresh line.
    """
    path = Path(path)
    if not path.exists():
        return []
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            warnings.warn(f"{path}:{number}: skipping a line that is not valid JSON (an interrupted write?)",
                          stacklevel=2)
            continue
        if isinstance(record, dict):
            records.append(record)
    return records


def append_record(path, record: dict) -> None:
    """Append one record as one line, flushed and fsync'ed, under an exclusive file lock."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(json_safe(record), allow_nan=False) + "\n").encode("utf-8")
    with path.open("ab+") as fh:
        with file_lock(fh):
            fh.seek(0, os.SEEK_END)
            if fh.tell() > 0:
                fh.seek(-1, os.SEEK_END)
                if fh.read(1) != b"\n":  # a torn last line: start on a fresh one
                    fh.write(b"\n")
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())


def record_key(record: dict) -> tuple[str, str, int, str]:
    return (record["dataset"], record["method"], int(record["seed"]), record["params_hash"])


def done_keys(records: list[dict], retry_failed: bool = False) -> set[tuple]:
    """Keys of finished runs: successful ones, and failed ones unless ``retry_failed``."""
    return {record_key(r) for r in records
            if "params_hash" in r and (r.get("status") == "ok" or (r.get("status") == "failed" and not retry_failed))}


#: get_params() entries that are not settings of the method: they are set per run by the harness.
_PER_RUN = frozenset({"n_clusters", "random_state", "verbose", "device", "pretrained", "checkpoint"})


def config_changes(record: dict, spec: RunSpec) -> dict[str, tuple]:
    """The settings a finished run was made with that the estimator would now set otherwise:
    ``{name: (recorded, now)}``, e.g. after a default changed in the code.

    A run's key holds only the parameters its grid sets, so a run made under an older default
    has the same key as one made today; the full ``config`` (``get_params()``) in its record
    tells them apart. Compared: every parameter both configs have (a parameter added since is
    not a change: its default may well reproduce the old behaviour). Records without the full
    config (taken over from the earlier scripts' records written before they kept
    ``full_config``: a repr of the non-default parameters only) and failed runs give ``{}``:
    nothing to compare.
    """
    from ..registry import make_method

    config = record.get("config") or {}
    if record.get("status") != "ok" or "class" not in config:
        return {}
    model = make_method(spec.method, **{"n_clusters": int(record.get("n_clusters") or 2),  # unless the grid sets it
                                        **_estimator_params(spec.params)})
    plain = {name: value for name, value in model.get_params().items()  # objects are recorded by repr: not comparable
             if name not in _PER_RUN and name in config and isinstance(value, (bool, int, float, str, tuple, list,
                                                                               type(None)))}
    now = json.loads(json.dumps(json_safe(plain)))
    return {name: (config[name], value) for name, value in now.items() if config[name] != value}


def stale_runs(records: list[dict], grid: Grid) -> dict[tuple, dict[str, tuple]]:
    """Grid keys whose last successful record was made with other settings than the estimator
    has now (:func:`config_changes`): key -> the changed settings. The harness runs them again;
    the newer record then counts (the last successful record of a key is the one aggregated)."""
    specs = {spec.key: spec for spec in grid.specs}
    latest: dict[tuple, dict] = {}
    for record in records:
        if "params_hash" in record and record.get("status") == "ok" and record_key(record) in specs:
            latest[record_key(record)] = record
    stale = {}
    for key, record in latest.items():
        changes = config_changes(record, specs[key])
        if changes:
            stale[key] = changes
    return stale


def describe_stale(stale: dict[tuple, dict[str, tuple]], template: str = "  {dataset} {method} seeds {seeds}: "
                   "recorded with other settings than the estimator's now ({what}); run again") -> list[str]:
    """One line per (dataset, method) with stale runs: which seeds and what changed, written with
    ``template`` (fields ``dataset``, ``method``, ``seeds``, ``what``)."""
    rows: dict[tuple, list] = {}
    for (dataset, method, seed, _), changes in sorted(stale.items()):
        what = ", ".join(f"{name} {old!r} -> {new!r}" for name, (old, new) in sorted(changes.items()))
        rows.setdefault((dataset, method, what), []).append(seed)
    return [template.format(dataset=dataset, method=method, seeds=",".join(map(str, seeds)), what=what)
            for (dataset, method, what), seeds in rows.items()]


# --------------------------------------------------------------------------- JSON, machine, memory


def model_config(model) -> dict:
    """A fitted estimator's full settings as recorded with each run: ``get_params()`` made
    JSON-safe, with the class name (what :func:`config_changes` compares with today's); the
    run's checkpoint path is not a setting and is left out."""
    params = {k: v for k, v in model.get_params().items() if k != "checkpoint"}
    return {"class": type(model).__name__, **json_safe(params)}


def json_safe(value):
    """``value`` with tuples as lists, numpy scalars as numbers, NaN/inf as None, objects as repr."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, np.generic):
        return json_safe(value.item())
    if isinstance(value, np.ndarray):
        return json_safe(value.tolist()) if value.size <= 64 else f"<array shape={list(value.shape)}>"
    try:
        import torch

        if isinstance(value, torch.nn.Module):
            return f"<{type(value).__name__} module>"
        if isinstance(value, torch.Tensor):
            return json_safe(value.detach().cpu().numpy())
    except ImportError:  # pragma: no cover
        pass
    return repr(value)


def _rounded(value):
    """Floats of a history to 6 significant digits (the JSONL stays small)."""
    if isinstance(value, float) and math.isfinite(value):
        return float(f"{value:.6g}")
    return value


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def device_info(device: str = "cpu") -> dict:
    """Where the runs execute: device, torch threads, CPU model and count, GPU name, malloc
    (``"hugepages"`` or ``"default"``, :func:`graphclust.runtime.malloc_mode`)."""
    import torch

    from ..base import check_device
    from ..runtime import malloc_mode

    dev = check_device(device)
    info = {"device": str(dev), "torch_threads": torch.get_num_threads(), "cpu": _cpu_name(),
            "cpu_count": os.cpu_count(), "platform": platform.platform(), "malloc": malloc_mode()}
    if dev.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(dev)
    return info


def status_kib(field_name: str) -> int:
    """A field of /proc/self/status in KiB (``VmRSS``, ``VmHWM``, ...); -1 where unavailable."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


def reset_peak_rss() -> bool:
    """Reset this process's peak-RSS counter (VmHWM; Linux >= 4.0) so the next peak is one run's."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return status_kib("VmHWM") > 0
    except OSError:
        return False


def peak_rss_mib() -> float:
    """Peak RSS (MiB) since the last :func:`reset_peak_rss`, else of the whole process."""
    hwm = status_kib("VmHWM")
    if hwm > 0:
        return hwm / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _gpu_peak_reset(device: str):
    """Reset CUDA's peak-memory counter when ``device`` is a GPU; returns the device or None."""
    if not str(device).startswith(("cuda", "auto")):
        return None
    import torch

    if not torch.cuda.is_available():
        return None
    from ..base import check_device

    dev = check_device(device)
    if dev.type != "cuda":
        return None
    torch.cuda.reset_peak_memory_stats(dev)
    return dev


# --------------------------------------------------------------------------- one run


def embedding_sample(n: int, max_rows: int = MAX_EMBEDDING_ROWS) -> np.ndarray:
    """The rows kept of a dataset's embeddings: the same ≤ ``max_rows`` for every method (seeded)."""
    if n <= max_rows:
        return np.arange(n)
    return np.sort(np.random.default_rng(0).choice(n, size=max_rows, replace=False))


def _without_labels(data):
    """A shallow copy of ``data`` without ``y``: labels reach ``fit`` only through its ``y=``."""
    features = copy.copy(data)  # PyG: a new store sharing the tensors
    if "y" in features:
        del features.y
    return features


_AE_SCHEDULE = ("hidden", "latent", "pretrain_epochs", "batch_size", "pretrain_lr")


def _shared_autoencoder(model, features, seed: int, cache: dict, verbose: bool, store: Path | None = None):
    """The AE that ``model`` would pretrain for itself with ``random_state=seed``, pretrained once.

    Replays what :meth:`BaseClusterer.fit` does before ``_fit`` pretrains: one draw from the
    seeded generator (the numpy RNG's seed), then the autoencoder's initialisation and
    pretraining from the same generator. The weights therefore equal the method's own
    (tested with AE+KMeans); later random draws of the method differ, so a shared run has a
    key of its own. With ``store`` (a folder) the pretrained AE is also kept there, one file per
    schedule and device under a fingerprint of schedule, seed, device and data, so a grid killed
    before the seed's methods are all recorded does not pretrain it again (MNIST-70k: about 20 min
    on one core); a file of other data is replaced, and one pretrained under other code is used
    with a warning (as a checkpoint is, :mod:`graphclust.training.checkpoint`). Returns
    (autoencoder, pretraining history, pretraining seconds, cache hit), the seconds those of the
    pretraining that made it.
    """
    import torch

    from ..base import check_device, check_random_state
    from ..graphs.inputs import as_data
    from ..nn import MLPAutoEncoder
    from ..training import PretrainConfig, build_pretrained_autoencoder
    from ..training import checkpoint as ckpt

    device = check_device(getattr(model, "device", "cpu"))
    schedule = json.dumps(json_safe({k: getattr(model, k) for k in _AE_SCHEDULE}), sort_keys=True)
    key = (seed, str(device), schedule)
    if key in cache:
        ae, history, seconds = cache[key]
        return ae, history, seconds, True
    x = as_data(features).x.to(device)
    path = fingerprint = None
    if store is not None:  # one file per schedule and device; a file of other data (or damaged) is replaced
        fingerprint = ckpt.fit_fingerprint({"schedule": schedule, "seed": seed, "device": str(device)}, x)
        name = hashlib.sha1(f"{schedule}|{device}".encode()).hexdigest()[:12]
        path = Path(store) / f"shared_ae_seed{seed}_{name}.pt"
        found = ckpt.kept_module(path, fingerprint, lambda: MLPAutoEncoder(x.shape[1], model.hidden, model.latent),
                                 "the shared autoencoder")
        if found is not None:
            ae, kept = found
            cache[key] = (ae.to(device), list(kept["history"]), float(kept["seconds"]))
            return (*cache[key], True)
    generator = check_random_state(seed)
    torch.randint(0, 2**62, (1,), generator=generator)  # the draw fit() makes for its numpy RNG
    start = time.perf_counter()
    config = PretrainConfig(epochs=model.pretrain_epochs, batch_size=model.batch_size, lr=model.pretrain_lr)
    ae, history = build_pretrained_autoencoder(x, hidden=model.hidden, latent=model.latent, config=config,
                                               generator=generator, verbose=verbose)
    seconds = time.perf_counter() - start
    cache[key] = (ae, history, seconds)
    if path is not None:
        try:
            ckpt.keep_module(path, fingerprint, ae, "shared autoencoder", history=list(history), seconds=seconds)
        except OSError as err:  # the run goes on: only a later resume would pretrain again
            warnings.warn(f"could not keep the shared autoencoder in {path}: {err}", stacklevel=2)
    return ae, history, seconds, False


def _estimator_params(params: dict) -> dict:
    """Config values -> estimator arguments: lists become tuples (layer widths)."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}


@dataclass
class FitOutcome:
    model: object
    time_s: float  # fit, plus the shared pretraining's time when there was one
    history: list = field(default_factory=list)  # pretraining (when shared) + the model's own
    pretraining: dict | None = None
    own_graph: bool = False  # the method built its own kNN graph (graphclust.cli.graph_input)


def fit_spec(spec: RunSpec, data, *, monitor: bool = True, device: str = "cpu", verbose: bool = False,
             pretrain_cache: dict | None = None, checkpoint: Path | None = None,
             pretrain_store: Path | None = None) -> FitOutcome:
    """Fit ``spec``'s method on ``data`` as the benchmark does (no evaluation, no record).

    ``data`` carries ``y``; ``fit`` receives the data without it and, when ``monitor``, the labels
    through ``y=`` for the per-epoch monitoring metrics only. Methods that take a ``checkpoint``
    (DEC, IDEC, DCN, SDCN, SDDECC) checkpoint to the path ``checkpoint``: a run killed half-way
    resumes there the next time; its time then includes the part before the kill (the estimator's ``resumed_``).
    """
    from ..cli import graph_input
    from ..registry import make_method

    y = None if data.y is None else data.y.cpu().numpy()
    n_clusters = int(y.max()) + 1 if y is not None else None
    params = {"n_clusters": n_clusters, **_estimator_params(spec.params), "random_state": spec.seed,
              "device": device, "verbose": verbose}
    if params["n_clusters"] is None:
        raise ValueError(f"dataset {spec.dataset!r} has no labels: set n_clusters in the params")
    model = make_method(spec.method, **params)
    labelless = _without_labels(data)
    features = graph_input(model, labelless)  # the shared graph, or the method's own kNN graph
    pretraining, pre_history, pre_s = None, [], 0.0
    if spec.shared_pretraining:
        ae, pre_history, pre_s, hit = _shared_autoencoder(model, features, spec.seed,
                                                          {} if pretrain_cache is None else pretrain_cache, verbose,
                                                          store=pretrain_store)
        model.set_params(pretrained=ae)
        pretraining = {"shared": True, "time_s": pre_s, "cache_hit": hit}
    fit_s = fit_resumable(model, features, y=y if monitor else None, checkpoint=checkpoint)
    return FitOutcome(model, fit_s + pre_s, list(pre_history) + list(model.history_), pretraining,
                      own_graph=features is not labelless)


def fit_resumable(model, data, y=None, checkpoint=None) -> float:
    """``model.fit(data, y=y)``, checkpointed to ``checkpoint`` when given and the method takes one
    (a run killed half-way resumes there the next time); returns the fit's seconds, with, for a
    resumed fit, those it ran up to its last checkpoint (the estimator's ``resumed_``). A checkpoint
    left by another fit of this run (made before a default or the data changed) is deleted with a
    warning and the fit starts afresh."""
    from ..training.checkpoint import CheckpointMismatch

    if checkpoint is not None and "checkpoint" in model.get_params():
        model.set_params(checkpoint=str(checkpoint))
    start = time.perf_counter()
    try:
        model.fit(data, y=y)
    except CheckpointMismatch as err:
        warnings.warn(f"the run's checkpoint is not this fit's, so it is deleted and the run starts afresh ({err})",
                      RuntimeWarning, stacklevel=2)
        Path(model.checkpoint).unlink(missing_ok=True)
        start = time.perf_counter()  # the refused attempt (its graph, its checkpoint check) is not this fit's time
        model.fit(data, y=y)
    return time.perf_counter() - start + float((getattr(model, "resumed_", None) or {}).get("elapsed_s", 0.0))


def _best_epoch(history: list[dict]) -> tuple[float | None, int | None]:
    best, where = None, None
    for i, record in enumerate(history):
        acc = record.get("acc")
        if isinstance(acc, (int, float)) and math.isfinite(acc) and (best is None or acc > best):
            best, where = float(acc), i
    return best, where


def _save_embedding(path: Path, embedding: np.ndarray, labels: np.ndarray, y, index: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    sub = np.clip(np.asarray(embedding, dtype=np.float32)[index], -65504, 65504)  # float16 range
    arrays = {"index": index.astype(np.int32), "embedding": sub.astype(np.float16),
              "labels": np.asarray(labels)[index].astype(np.int32)}
    if y is not None:
        arrays["y"] = np.asarray(y)[index].astype(np.int32)
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, **arrays)
    os.replace(tmp, path)


def run_spec(spec: RunSpec, data, *, monitor: bool = True, device: str = "cpu", verbose: bool = False,
             pretrain_cache: dict | None = None, embedding_path: Path | None = None, embedding_ref: str | None = None,
             sample_index: np.ndarray | None = None, env: dict | None = None, machine: dict | None = None,
             checkpoint: Path | None = None, pretrain_store: Path | None = None) -> dict:
    """Run one spec and return its record; an exception becomes a ``failed`` record.

    ``KeyboardInterrupt`` is not caught: an interrupted run leaves no record and is redone (from
    its ``checkpoint`` where the method takes one, see :func:`fit_spec`; the record then has
    ``resumed``).
    """
    from ..metrics import evaluate
    from ..training.checkpoint import code_version

    record = {"key": "|".join(map(str, spec.key)), "status": "ok", "dataset": spec.dataset, "method": spec.method,
              "seed": spec.seed, "params": spec.params, "params_hash": spec.params_hash,
              "started": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
              "code_version": code_version()}
    scope = "run" if reset_peak_rss() else "process"
    gpu = _gpu_peak_reset(device)
    start = time.perf_counter()
    try:
        outcome = fit_spec(spec, data, monitor=monitor, device=device, verbose=verbose, pretrain_cache=pretrain_cache,
                           checkpoint=checkpoint, pretrain_store=pretrain_store)
        model = outcome.model
        y = data.y.cpu().numpy()
        metrics = evaluate(y, model.labels_, graph=data)
        best, best_at = _best_epoch(outcome.history)
        config = model_config(model)
        if outcome.pretraining:
            config["pretrained"] = f"shared AE pretrained by the harness (seed {spec.seed})"
        embedding = None
        if embedding_path is not None and model.embedding_ is not None:
            index = embedding_sample(len(y)) if sample_index is None else sample_index
            _save_embedding(embedding_path, model.embedding_, model.labels_, y, index)
            embedding = embedding_ref or str(embedding_path)
        record.update({
            "metrics": metrics,
            BEST_EPOCH_KEY: best,
            "best_epoch": best_at,
            "time_s": outcome.time_s,
            "n_clusters": int(model.n_clusters),
            "n_samples": int(len(y)),
            "epochs_run": len(outcome.history),
            "config": config,
            "history": [{k: _rounded(v) for k, v in json_safe(h).items()} for h in outcome.history],
            "embedding": embedding,
            "monitored": bool(monitor),
        })
        if getattr(model, "resumed_", None):  # killed half-way before, resumed from its checkpoint
            record["resumed"] = json_safe(model.resumed_)
        if outcome.pretraining:
            record["pretraining"] = outcome.pretraining
        if outcome.own_graph:
            record["graph"] = f"own kNN graph, k = {model.n_neighbors} (the dataset's shared graph has another k)"
        if getattr(model, "graph_build_", None):  # where its graph came from and what it took (in time_s)
            record["graph_build"] = json_safe(model.graph_build_)
    except Exception as err:  # a failed run is recorded and the grid goes on
        record.update({"status": "failed", "error": f"{type(err).__name__}: {err}",
                       "traceback": traceback.format_exc(limit=-8), "time_s": time.perf_counter() - start})
    record["peak_rss_mib"] = peak_rss_mib()
    record["peak_rss_scope"] = scope
    if gpu is not None:
        import torch

        record["peak_gpu_mib"] = torch.cuda.max_memory_allocated(gpu) / 2**20
    record["versions"] = env or {}
    record["device"] = machine or {"device": device}
    return record


# --------------------------------------------------------------------------- the grid


@dataclass
class RunSummary:
    """What one call of :func:`run_grid` did."""

    path: Path
    total: int  # runs in the grid
    already_done: int  # found in the JSONL (skipped)
    ran: int  # run now (ok or failed)
    failed: int  # of those, failed
    left: int  # still pending (limit reached or dataset unavailable)
    unavailable: dict = field(default_factory=dict)  # dataset -> why it could not be loaded


def _load_dataset(name: str, data_root, verbose: bool):
    from ..cli import prepare_graph
    from ..data import load_dataset

    data = load_dataset(name, root=data_root)
    if data.y is None:
        raise ValueError(f"dataset {name!r} has no labels to evaluate against")
    return prepare_graph(data, verbose=verbose)


def _units(specs: list[RunSpec]) -> list[list[RunSpec]]:
    """The pending specs cut into units of one (dataset, seed), in grid order: the runs that
    share one loaded dataset and (with ``share_pretraining``) one pretrained autoencoder."""
    units: dict[tuple[str, int], list[RunSpec]] = {}
    for spec in specs:
        units.setdefault((spec.dataset, spec.seed), []).append(spec)
    return list(units.values())


@dataclass
class _UnitContext:
    """What running a unit needs besides its specs and data (picklable: sent to the workers)."""

    path: Path  # the JSONL
    out_dir: Path
    grid_name: str
    monitor: bool
    device: str
    embed_mode: str  # save_embeddings: "first", "all" or "none"
    first_seed: dict  # spec.group -> lowest seed (its embedding is kept with "first")
    verbose_runs: bool
    env: dict
    machine: dict
    keep_store: frozenset = frozenset()  # (dataset, seed) with runs pending beyond this call (max_runs)


def _run_name(spec: RunSpec) -> str:
    """The file stem of a run's embedding and checkpoint."""
    return f"{spec.dataset}_{spec.method}_{spec.params_hash}_seed{spec.seed}"


def checkpoint_path(out_dir, grid_name: str, spec: RunSpec) -> Path:
    """Where a run of a method that takes a ``checkpoint`` keeps it until the run is recorded."""
    return Path(out_dir) / "checkpoints" / grid_name / f"{_run_name(spec)}.pt"


def shared_ae_store(out_dir, grid_name: str, spec: RunSpec) -> Path:
    """The folder that keeps the shared autoencoders of ``spec``'s (dataset, seed) until all its runs
    are recorded (:func:`_shared_autoencoder`)."""
    return Path(out_dir) / "checkpoints" / grid_name / "shared_ae" / f"{spec.dataset}_seed{spec.seed}"


def checkpoint_progress(path) -> str | None:
    """``"after stage joint, 12 epochs"`` for the checkpoint at ``path``; None when there is none
    (or it cannot be read: the run then starts afresh)."""
    from ..training.checkpoint import peek_checkpoint

    state = peek_checkpoint(path)
    if state is None:
        return None
    done = f", {state['epochs_done']} epochs" if "epochs_done" in state else ""
    return f"after stage {state['stage']}{done}"


def _run_unit(specs: list[RunSpec], data, ctx: _UnitContext, on_record, on_start=None) -> None:
    """Run the specs of one (dataset, seed) on ``data``; append each record to the JSONL at once
    and hand it to ``on_record`` (``on_start(spec)`` before each run)."""
    index = embedding_sample(data.num_nodes)
    cache: dict = {}  # this seed's shared autoencoders
    store = shared_ae_store(ctx.out_dir, ctx.grid_name, specs[0]) if specs else None  # and on disk, until all done
    all_ok = True
    for spec in specs:
        if on_start is not None:
            on_start(spec)
        keep = ctx.embed_mode == "all" or (ctx.embed_mode == "first" and spec.seed == ctx.first_seed[spec.group])
        ref = f"embeddings/{ctx.grid_name}/{_run_name(spec)}.npz"
        checkpoint = checkpoint_path(ctx.out_dir, ctx.grid_name, spec)
        record = run_spec(spec, data, monitor=ctx.monitor, device=ctx.device, verbose=ctx.verbose_runs,
                          pretrain_cache=cache, embedding_path=ctx.out_dir / ref if keep else None,
                          embedding_ref=ref, sample_index=index, env=ctx.env, machine=ctx.machine,
                          checkpoint=checkpoint, pretrain_store=store)
        append_record(ctx.path, record)
        if record["status"] == "ok":  # recorded: its checkpoint (if the method took one) is not needed
            checkpoint.unlink(missing_ok=True)
        all_ok = all_ok and record["status"] == "ok"
        on_record(record)
    if store is not None and all_ok and (specs[0].dataset, specs[0].seed) not in ctx.keep_store:
        shutil.rmtree(store, ignore_errors=True)  # every run of the seed recorded: its shared AEs are not needed


def run_grid(grid: Grid, out_dir, *, data_root=None, max_runs: int | None = None, retry_failed: bool = False,
             progress: bool = True, verbose_runs: bool | None = None, jobs: int = 1,
             threads: int | None = None) -> RunSummary:
    """Run every spec of ``grid`` not yet in ``<out_dir>/<grid.name>.jsonl``; append each record at once.

    Args:
        grid: from :func:`graphclust.bench.grid.build_grid` or ``grid_from_lists``.
        out_dir: results folder (JSONL, ``embeddings/<name>/``).
        data_root: where the dataset files are (default: the grid's, else the catalog default).
        max_runs: stop after this many runs (the rest stays pending for the next call).
        retry_failed: run again the specs whose last record is a failure.
        progress: an overall bar over the runs with ETA, and (one job only) the methods' own
            per-run bars.
        verbose_runs: the methods' ``verbose`` (default: ``progress`` with one job, else False).
        jobs: worker processes. With ``jobs > 1`` the (dataset, seed) units go to a pool of
            that many processes, each taking the next unit when it finishes one; every worker
            loads (and graphs) a dataset once, the records go to the same JSONL under its file
            lock, and a run's results are the same as in one process. On a machine with C
            cores, ``jobs = C`` with ``threads = 1`` is the fastest use of them.
        threads: torch intra-op threads of each worker (default 1 when ``jobs > 1``; with one
            job the caller's setting is left alone).

    Kill it at any point and call it again: finished runs are skipped, nothing is lost.
    """
    from ..cli import versions
    from ..training.progress import progress_bar

    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a positive int, got {jobs!r}")
    settings = grid.settings
    out_dir = Path(out_dir)
    path = jsonl_path(out_dir, grid.name)
    data_root = data_root if data_root is not None else settings.get("data_root")
    verbose_runs = (progress and jobs == 1) if verbose_runs is None else verbose_runs
    records = read_records(path)
    stale = stale_runs(records, grid)
    done = done_keys(records, retry_failed=retry_failed) - set(stale)
    pending = [s for s in grid.specs if s.key not in done]
    already = len(grid.specs) - len(pending)
    todo = pending if max_runs is None else pending[:max(int(max_runs), 0)]
    summary = RunSummary(path, len(grid.specs), already, 0, 0, len(pending))
    if not todo:
        return summary
    device = settings.get("device", "cpu")
    ctx = _UnitContext(path, out_dir, grid.name, settings.get("monitor", True), device,
                       settings.get("save_embeddings", "first"), grid.first_seeds(), verbose_runs, versions(),
                       device_info(device), frozenset((s.dataset, s.seed) for s in pending[len(todo):]))
    units = _units(todo)
    jobs = min(jobs, len(units))
    if progress:
        from tqdm.auto import tqdm

        tqdm.write(f"{grid.name}: {len(grid.specs)} runs, {already} already in {path}, {len(todo)} to run now"
                   + (f" in {jobs} worker processes" if jobs > 1 else ""))
        for line in describe_stale(stale):
            tqdm.write(line)
    bar = progress_bar(total=len(todo), desc="bench", unit="run", smoothing=0, dynamic_ncols=True, disable=not progress)

    def on_record(record: dict) -> None:
        summary.ran += 1
        summary.left -= 1
        summary.failed += record["status"] == "failed"
        bar.update(1)
        bar.write(_one_line(record))

    def on_unavailable(dataset: str, why: str, n_specs: int) -> None:
        if dataset not in summary.unavailable:
            bar.write(f"{dataset}: not available, its runs are left pending: {why}")
        summary.unavailable[dataset] = why
        bar.update(n_specs)

    try:
        if jobs == 1:
            _run_serial(units, ctx, data_root, progress, bar, on_record, on_unavailable)
        else:
            _run_parallel(units, ctx, data_root, jobs, 1 if threads is None else int(threads), bar, on_record,
                          on_unavailable)
    finally:
        bar.close()
    return summary


class _DatasetSlot:
    """The dataset a process loaded last (one at a time: the previous one is freed before the next
    is loaded) and the datasets that could not be loaded, with why (not tried again)."""

    def __init__(self, data_root, verbose: bool):
        self.data_root, self.verbose = data_root, verbose
        self.name: str | None = None
        self.data = None
        self.unavailable: dict[str, str] = {}

    def get(self, dataset: str) -> tuple[object | None, str | None]:
        """(data, None), or (None, why it is not available)."""
        from tqdm.auto import tqdm

        if dataset in self.unavailable:
            return None, self.unavailable[dataset]
        if self.name != dataset:
            self.name = self.data = None
            try:
                with tqdm.external_write_mode():  # the graph report prints between bar refreshes
                    self.data = _load_dataset(dataset, self.data_root, verbose=self.verbose)
            except (FileNotFoundError, ValueError, OSError) as err:
                self.unavailable[dataset] = str(err).splitlines()[0]
                return None, self.unavailable[dataset]
            self.name = dataset
        return self.data, None


def _run_serial(units, ctx: _UnitContext, data_root, progress: bool, bar, on_record, on_unavailable) -> None:
    slot = _DatasetSlot(data_root, verbose=progress)
    for specs in units:
        data, why = slot.get(specs[0].dataset)
        if why is not None:
            on_unavailable(specs[0].dataset, why, len(specs))
            continue
        _run_unit(specs, data, ctx, on_record,
                  on_start=lambda spec: bar.set_description(f"{spec.dataset} {spec.method} seed {spec.seed}"))


# -- worker processes (jobs > 1)

_WORKER: dict = {}  # in a worker: the progress queue and its _DatasetSlot


def _worker_init(queue, data_root, threads: int) -> None:
    import torch

    torch.set_num_threads(threads)
    try:
        import faiss

        faiss.omp_set_num_threads(threads)
    except ImportError:  # faiss is only needed by the kNN graph builders that use it
        pass
    _WORKER.update(queue=queue, slot=_DatasetSlot(data_root, verbose=False))


def _worker_unit(specs: list[RunSpec], ctx: _UnitContext) -> None:
    """Run one unit in a worker; each record and an unavailable dataset go to the parent's queue."""
    queue = _WORKER["queue"]
    data, why = _WORKER["slot"].get(specs[0].dataset)
    if why is not None:
        queue.put(("unavailable", specs[0].dataset, why, len(specs)))
        return
    _run_unit(specs, data, ctx, lambda record: queue.put(("record", record)))


def _run_parallel(units, ctx: _UnitContext, data_root, jobs: int, threads: int, bar, on_record,
                  on_unavailable) -> None:
    import multiprocessing
    import queue as queue_module
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    mp = multiprocessing.get_context("spawn")  # no forked torch / OpenMP state in the workers
    queue = mp.Queue()

    def drain(timeout: float) -> None:
        try:
            message = queue.get(timeout=timeout)
            while True:
                if message[0] == "record":
                    on_record(message[1])
                else:
                    on_unavailable(*message[1:])
                message = queue.get_nowait()
        except queue_module.Empty:
            pass

    pool = ProcessPoolExecutor(jobs, mp_context=mp, initializer=_worker_init, initargs=(queue, data_root, threads))
    try:
        futures = {pool.submit(_worker_unit, specs, ctx): specs for specs in units}
        running = set(futures)
        while running:
            finished, running = wait(running, timeout=0.5, return_when=FIRST_COMPLETED)
            drain(0.05)
            for future in finished:
                try:
                    future.result()
                except BrokenProcessPool as err:
                    specs = futures[future]
                    raise RuntimeError(f"a bench worker died (killed, or out of memory?) while running "
                                       f"{specs[0].dataset} seed {specs[0].seed}; every finished run is in "
                                       f"{ctx.path}: run the same command again to resume") from err
        drain(0.05)
    except BaseException:  # an interrupted bench (Ctrl-C, a failed worker) stops its workers too
        processes = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            if process.is_alive():
                process.terminate()
        raise
    pool.shutdown(wait=True)


def _one_line(record: dict) -> str:
    head = f"{record['dataset']} {record['method']} seed {record['seed']}"
    if record["status"] != "ok":
        return f"{head}: FAILED {record.get('error', '')}"
    metrics = " ".join(f"{k}={v:.4f}" for k, v in record["metrics"].items() if v is not None)
    return f"{head}: {metrics} ({record['time_s']:.1f}s)"


# --------------------------------------------------------------------------- earlier scripts' records

_LEGACY_OWN = {"n_clusters", "random_state", "verbose", "device", "checkpoint"}


def _legacy_params(config: str) -> dict[str, str] | None:
    """``"SDCN(n_clusters=6, lr=0.0001, random_state=0)"`` -> {"lr": "0.0001"} (values as repr text)."""
    import re

    match = re.fullmatch(r"\s*\w+\((.*)\)\s*", config or "")
    if match is None:
        return None
    params = {}
    for item in re.split(r",\s*(?=\w+=)", match.group(1)) if match.group(1) else []:
        key, _, value = item.partition("=")
        params[key.strip()] = value.strip()
    return {k: v for k, v in params.items() if k not in _LEGACY_OWN}


def _legacy_device(old: dict) -> dict:
    """The grid's ``device`` dict of a legacy record: its ``device`` text (``"cpu"``, ``"cuda (NVIDIA H200)"``;
    records from before the scripts kept it ran on the CPU, or say so in ``full_config``) and, where it
    has one, its ``torch_threads``."""
    import re

    text = str(old.get("device") or (old.get("full_config") or {}).get("device") or "cpu")
    match = re.fullmatch(r"\s*(\S+?)\s*\((.+)\)\s*", text)
    device = {"device": match.group(1), "gpu": match.group(2)} if match else {"device": text.strip()}
    if isinstance(old.get("torch_threads"), int):
        device["torch_threads"] = old["torch_threads"]
    return device


def import_legacy(legacy_path, grid: Grid, out_dir) -> int:
    """Add to the grid's JSONL the runs of the earlier scripts (``benchmarks/reproduce_*.py``) that
    are runs of this grid, so they are not computed again; returns how many were added (see
    :func:`legacy_records` for which)."""
    out = jsonl_path(out_dir, grid.name)
    current = {record_key(r): r for r in read_records(out) if "params_hash" in r}  # the latest per key
    added = legacy_records(legacy_path, grid, set(current), current)
    for record in added:
        append_record(out, record)
    return len(added)


def legacy_records(legacy_path, grid: Grid, have: set, current: dict | None = None) -> list[dict]:
    """The grid records that the runs in ``legacy_path`` become, leaving out the keys in ``have``.

    A legacy record (flat ``acc``/``nmi``/``ari``/``f1``, ``time``, ``config`` repr and, in records
    written since the scripts keep it, ``full_config``: :func:`model_config`) is taken when
    its (dataset, method, seed) is a spec of the grid that pretrains by itself, and its config
    repr shows exactly the spec's parameters beyond the defaults — the same protocol (final model,
    labels only monitored, the dataset's shared graph). Records whose AE came from elsewhere
    (``pretrained=``) are left out. Of several such records of one run (a script's ``--rerun``)
    the last counts, as in the script's own tables; ``current`` (key -> the grid's latest record)
    lets a key in ``have`` be taken again when its latest grid record was taken over from this
    file and the file's last record of the run now differs (scores or time). Imported records
    have no modularity, conductance, history or embedding (the best monitored epoch's ACC, when
    the script kept it); they carry ``imported_from``, the script's ``code_version`` (where its
    record has one) and its device (:func:`_legacy_device`); their ``config`` is the script's
    ``full_config`` where it has one, so :func:`config_changes` can compare it, plus the ``repr``.
    Writes nothing.
    """
    name = Path(legacy_path).name
    specs = {(s.dataset, s.method, s.seed): s for s in grid.specs}
    last: dict[tuple, tuple] = {}  # spec key -> (spec, the file's last matching record of the run)
    for old in read_records(legacy_path):
        spec = specs.get((old.get("dataset"), old.get("method"), old.get("seed")))
        if spec is None or spec.shared_pretraining or "params_hash" in old:
            continue
        shown = _legacy_params(str(old.get("config", "")))
        wanted = {k: repr(tuple(v) if isinstance(v, list) else v) for k, v in spec.params.items()}
        if shown is None or "pretrained" in shown or shown != wanted:
            continue
        last[spec.key] = (spec, old)
    taken: list[dict] = []
    for spec, old in last.values():
        metrics = {m: old[m] for m in ("acc", "nmi", "ari", "f1") if m in old}
        if spec.key in have:
            prior = (current or {}).get(spec.key)
            if prior is None or prior.get("imported_from") != name or (
                    prior.get("metrics") == metrics and prior.get("time_s") == old.get("time")):
                continue
        taken.append({"key": "|".join(map(str, spec.key)), "status": "ok", "dataset": spec.dataset,
                      "method": spec.method, "seed": spec.seed, "params": spec.params,
                      "params_hash": spec.params_hash,
                      "metrics": metrics,
                      BEST_EPOCH_KEY: old.get(BEST_EPOCH_KEY), "best_epoch": None, "time_s": old.get("time"),
                      "epochs_run": old.get("epochs_run"),
                      "config": {**(old.get("full_config") or {}), "repr": old.get("config")}, "history": [],
                      "embedding": None, "monitored": True, "peak_rss_mib": old.get("peak_rss_mib"),
                      "peak_rss_scope": "process", "versions": old.get("versions") or {},
                      "device": _legacy_device(old), "imported_from": name,
                      **({"code_version": old["code_version"]} if old.get("code_version") else {}),
                      **({"resumed": old["resumed"]} if old.get("resumed") else {})})
    return taken
