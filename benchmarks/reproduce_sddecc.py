"""Reproduce the SDDECC paper (seed 003): Table 3 (seven methods) and Table 4 (ablations).

Datasets USPS, MNIST and Fashion-MNIST; final model of every run (no epoch or seed chosen by
labels); mean ± std of ACC / NMI / ARI / F1 next to the paper's ACC / NMI; wall time per run.
Default seeds: 10 on USPS, 3 on MNIST and Fashion-MNIST (70,000 images: an SDDECC run there on the
estimator's 30 + 50 epochs took 7,800 s, 2.2 h, on one core, with huge pages (``graphclust.runtime``):
25 min of pretraining, 17 min of GCN warm-up at about 5 s per full-graph step, 87 min of joint training;
230-290 s on an H200, six to ten runs at a time; so 10 seeds of four variants do not fit the CPU).

    python benchmarks/reproduce_sddecc.py --data-root ../shared/data --threads 1
    python benchmarks/reproduce_sddecc.py --datasets usps --only sddecc,convae --seeds 5
    python benchmarks/reproduce_sddecc.py --datasets mnist --only convae_gcn --seeds 3 --first-seed 2

(the last runs seed 2 alone, e.g. in a second process while another runs seed 1). ``--workers N`` does that
itself: it runs N runs at a time, each in its own process (log in ``results/logs/``), and writes the tables when
all are done; with ``--graph-cache DIR`` the kNN graph an estimator builds is built once and read from DIR by
every later run of the same data (ten Fashion-MNIST runs at a time fit one H200: about 5 min for all ten):

    python benchmarks/reproduce_sddecc.py --datasets fashion-mnist --only convae,convae_mi,convae_gcn,sddecc \
        --device cuda --threads 1 --workers 10 --graph-cache /tmp/graphs

Runs go seed by seed (every row gets its first seeds before any row gets its last). Each
finished run is appended at once to a JSONL file; rerunning skips what is recorded:

- K-means, AE+K-means, DEC, IDEC: ``baselines_<dataset>.jsonl`` (the runs of
  ``reproduce_baselines.py``: one autoencoder per seed shared by the AE-based methods);
- SDCN: ``graph_methods.jsonl`` (the runs of ``reproduce_graph.py``; also records SDCN_Q);
- DeepCluster, SDDECC and the Table 4 ablations: ``sddecc.jsonl``;
- a baseline row that ``reproduce_baselines.py`` has not run on a dataset (MNIST and Fashion-MNIST
  DEC, IDEC): the grid's own runs in ``reproduction.jsonl`` (``graphclust bench``), said under the
  tables.

``--rerun`` runs the last group again where recorded (to check that a run reproduces on today's
code, or to record a field older records lack): the new record supersedes the old in the tables,
keeps its scores, code version and thread count under ``replaces``, and ``sddecc.md`` says per row how
many reruns repeat their record exactly, with a line for each one that does not.
A run already made again under the same code version is not rerun, so a killed ``--rerun`` resumes.

An SDDECC run (and its ablations; SDCN likewise) also checkpoints itself to ``results/checkpoints/`` after
pretraining, after the GCN warm-up and after every joint epoch: killed half-way, the same command
resumes it there and ends with the same model (its recorded time adds the time up to the last
checkpoint before the kill, and the record says ``resumed``); the checkpoint is deleted once the
run is recorded.

The tables go to ``benchmarks/results/sddecc.md`` after every run. Table 4's rows are SDDECC's
ablation switches: ConvAE (``use_mi=False, use_gcn=False``), ConvAE+MI (``use_gcn=False``),
ConvAE+GCN (``use_mi=False``) and ConvAE+MI+GCN (the full model, the same runs as Table 3's); and
strategy 1 read literally, "ConvAE, reconstruction only + k-means" (also ``lambda2=0``: no prior KL,
no L_c; pretrained for the epochs the other rows train in all, ``epochs=0``, labels by k-means on μ(x)).
All estimators run with their defaults (see ``graphclust.models.SDDECC`` for the settings the
paper leaves open); the rows ``convae_short``, ``sddecc_short`` ... (``SHORT_ROWS``, MNIST and
Fashion-MNIST only) keep the shorter schedule the tables used there until 2026-12-04
(``SHORT_EPOCHS``). SDCN runs on the dataset's shared kNN graph (its catalog recipe, built once,
as ``reproduce_graph.py`` and ``graphclust bench`` give it, so a seed gives the same run whichever
made it); SDDECC builds its own, k = 3 on the raw images, as in the paper.
"""
from __future__ import annotations

import argparse
import copy
import math
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (BEST_EPOCH_KEY, MONITOR_KEY, RESULTS, append_run, best_epoch_acc, catalog_dataset,  # noqa: E402
                     check_known, check_seed_range, checkpointed_fit, code_version, comma_names, done_keys,
                     drop_checkpoint, mean_std, model_config, monitored_acc, paper_figures, parse_run_args,
                     peak_rss_mib, read_records, read_runs, run_parser, summary_table)
from ae_seeding import seeding_note  # noqa: E402
from reproduce_baselines import run_baseline_seed  # noqa: E402
from reproduce_graph import run_graph_method  # noqa: E402

from graphclust.bench.aggregate import mean_std as mean_and_std  # noqa: E402
from graphclust.bench.grid import RunSpec  # noqa: E402
from graphclust.bench.runner import config_changes  # noqa: E402
from graphclust.cli import prepare_graph, versions  # noqa: E402
from graphclust.data import load_dataset  # noqa: E402
from graphclust.data.catalog import get_entry  # noqa: E402
from graphclust.losses import gaussian_prior_kl, joint_clustering_loss  # noqa: E402
from graphclust.metrics import evaluate  # noqa: E402
from graphclust.registry import make_method  # noqa: E402

DATASETS = ("usps", "mnist", "fashion-mnist")
DEFAULT_SEEDS = {"usps": 10, "mnist": 3, "fashion-mnist": 3}
BASELINES = ("kmeans", "ae_kmeans", "dec", "idec")  # from reproduce_baselines.py
# row label -> (estimator, parameters beyond its defaults)
OWN_ROWS = {
    "sddecc": ("sddecc", {}),
    "convae": ("sddecc", {"use_mi": False, "use_gcn": False}),
    # strategy 1 read literally, "only train a multi-layer conv autoencoder": reconstruction alone (λ2 = 0: no prior
    # KL, no L_c; no MI, no GCN) for as many epochs as the other rows train in all, then k-means on μ(x)
    # (epochs = 0: the labels are the nearest k-means centres); see ``row_params``
    "convae_rec": ("sddecc", {"use_mi": False, "use_gcn": False, "lambda2": 0.0, "epochs": 0}),
    "convae_mi": ("sddecc", {"use_gcn": False}),
    "convae_gcn": ("sddecc", {"use_mi": False}),
    "deepcluster": ("deepcluster", {}),
    # the literal reading of Eq. 19 in the joint stage (L_c summed over the latent dimensions), beside
    # the default that averages it; not in the default rows: run it with --only sddecc_lc_sum
    "sddecc_lc_sum": ("sddecc", {"kl_reduction": ("mean", "sum")}),
    # joint training end to end (L_c's gradient also through the GCN's Y into the encoder) beside the default's
    # alternating block steps; not in the default rows: --only sddecc_e2e
    "sddecc_e2e": ("sddecc", {"joint": "end_to_end"}),
    # λ1 and λ2 the other way round: the grids' centres, λ1 = 0.01 and λ2 = 1.5, are the weights the public
    # Keras Deep InfoMax code gives its prior KL (0.01) and its local MI term (1.5), so the paper may have
    # run them on those terms; not in the default rows: --only sddecc_dim_weights
    "sddecc_dim_weights": ("sddecc", {"lambda1": 1.5, "lambda2": 0.01}),
    # DeepCluster on a convolutional backbone (the DDECN's convolutions), the original method's kind of network,
    # beside the default's MLP; not in the default rows: --only deepcluster_conv
    "deepcluster_conv": ("deepcluster", {"backbone": "conv"}),
    # a 20-dimensional code, the width of the public Keras code that defines L_c's q(z|y) = N(μ_y, I),
    # q(y) = 1/K (the paper gives none; the default is 10, as DEC's and SDCN's); --only sddecc_latent20
    "sddecc_latent20": ("sddecc", {"latent": 20}),
    # the GCN reads each conv layer's whole activation map (transfer_size=None) instead of the default's maps
    # average-pooled to 4x4, a choice made for the cost on MNIST (`SDDECCModule` docstring), not measured for its
    # effect: on USPS the GCN then mirrors the encoder exactly (256-1024-512-d-K); --only sddecc_unpooled
    "sddecc_unpooled": ("sddecc", {"transfer_size": None}),
    # no pretraining: Eq. 19 from the initial network for as many epochs as pretraining and joint training make in
    # all (the paper trains "end to end" to a maximum iteration count and states no pretraining; μ_y from k-means on
    # the initial network's μ(x), then the GCN warm-up as always); --only sddecc_scratch
    "sddecc_scratch": ("sddecc", {"pretrain_epochs": 0, "epochs": sum(
        make_method("sddecc").get_params()[k] for k in ("pretrain_epochs", "epochs"))}),
}
# SDDECC's rows of the tables train on the estimator's own schedule (30 + 50 epochs) on every dataset. On the
# 70,000-image datasets they trained for SHORT_EPOCHS until 2026-12-04, to fit three seeds of four variants on the
# 2-core machine (10 + 20 epochs are 2,730 + 5,460 optimiser steps of batch 256, more than USPS's 1,110 + 1,850; not
# tuned on labels). The tables moved to the estimator's schedule once every ablation of Table 4 had run it on both
# datasets (on a GPU: 3 seeds of MNIST, 5 of Fashion-MNIST), as planned before those runs; its loss was still
# falling at the end of the shorter one (label-free, *Schedule* in sddecc.md).
SDDECC_EPOCHS: dict[str, dict] = {}  # dataset -> the tables' schedule where it is not the estimator's (none now)
SHORT_EPOCHS = {"mnist": {"pretrain_epochs": 10, "epochs": 20}, "fashion-mnist": {"pretrain_epochs": 10, "epochs": 20}}
# rows that are a row of the tables on SHORT_EPOCHS (MNIST and Fashion-MNIST only): the tables' runs there until
# 2026-12-04, kept beside the tables' rows to show what the shorter schedule costs (see ``row_params``); --only
# convae_short, --only sddecc_short, --only convae_mi_short, --only convae_gcn_short, --only convae_rec_short
SHORT_ROWS = {"convae_short": "convae", "sddecc_short": "sddecc", "convae_mi_short": "convae_mi",
              "convae_gcn_short": "convae_gcn", "convae_rec_short": "convae_rec"}
# rows that are a row of the tables trained for as many optimiser steps as the estimator's 30 + 50 epochs make on
# STEP_REFERENCE (MNIST, 274 batches of 256 per epoch): on USPS (37 batches per epoch) 222 + 370 epochs (see
# ``row_params``). The estimator's schedule was set on USPS, where its loss is still falling at 30 + 50 epochs
# (label-free); with the two other ablations, Table 4 on that schedule, its ordering checked as the tables'
# (``steps_ordering_note``); --only convae_steps, --only convae_mi_steps, --only convae_gcn_steps, --only sddecc_steps
STEP_ROWS = {"convae_steps": "convae", "convae_mi_steps": "convae_mi", "convae_gcn_steps": "convae_gcn",
             "sddecc_steps": "sddecc"}
STEP_REFERENCE = "mnist"
# rows that are a STEP_ROWS row with the GCN updated as seldom, per DDECN step, as the estimator's schedule updates it
# on STEP_REFERENCE: gcn_steps full-batch GCN steps follow every epoch of N/B DDECN steps, 10 per 37 on USPS but
# 10 per 274 on MNIST, where SDDECC at 30 + 50 epochs scored 8 points under ConvAE on the CPU's two seeds (made
# again on a GPU, with a third seed, the gap is within its spread: *GCN steps per DDECN step* in sddecc.md). On
# USPS gcn_steps = 10 · 37 / 274 = 1.35 -> 1 (the fewest); see ``row_params``; --only sddecc_steps_gcn
GCN_RATIO_ROWS = {"sddecc_steps_gcn": "sddecc_steps"}
# rows that train one stage of SDDECC for as many optimiser steps as STEP_ROWS do and the other for the estimator's
# epochs (on USPS 222 + 50 and 30 + 370), to tell which stage the gain of *SDDECC, MNIST's steps* comes from: the
# pretrained code's quality, or joint training's length (set before either ran; see ``row_params``);
# --only sddecc_steps_pretrain, --only sddecc_steps_joint
STAGE_STEP_ROWS = {"sddecc_steps_pretrain": "pretrain_epochs", "sddecc_steps_joint": "epochs"}
OWN_ROWS.update({row: OWN_ROWS[base] for row, base in {**SHORT_ROWS, **STEP_ROWS}.items()})
OWN_ROWS.update({row: OWN_ROWS[base] for row, base in GCN_RATIO_ROWS.items()})
OWN_ROWS.update({row: OWN_ROWS["sddecc"] for row in STAGE_STEP_ROWS})
# rows that are a row of Table 4 with the reconstruction averaged over all N·F entries (F.mse_loss) instead of Eq. 13's
# 1/(2N)||X − X̂||²_F: SDCN writes the same formula and its code computes F.mse_loss, and the paper builds its graph
# part "as Bo et al." (SDCN). The reconstruction is then F/2 times lighter (128 on USPS, 392 on MNIST) against λ1 · MI
# and λ2 · KL; --only sddecc_mse, convae_mse, convae_mi_mse, convae_gcn_mse
MSE_ROWS = {f"{row}_mse": row for row in ("convae", "convae_mi", "convae_gcn", "sddecc")}


def _with_params(rows: dict[str, str], **params) -> dict[str, tuple[str, dict]]:
    """``OWN_ROWS`` entries of rows (row -> base row) that are their base row with ``params`` added."""
    return {row: (OWN_ROWS[base][0], {**OWN_ROWS[base][1], **params}) for row, base in rows.items()}


OWN_ROWS.update(_with_params(MSE_ROWS, reconstruction="mean"))
# the local MI discriminator on the first convolution's map (local_layer=0; on USPS the encoder's middle: 16×8×8,
# 64 positions) instead of the last one's (the default: 32×4×4, 16 positions); the paper takes the map "of a middle
# layer of the CNN" without naming it; --only convae_mi_first_map,sddecc_first_map
FIRST_MAP_ROWS = {f"{row}_first_map": row for row in ("convae_mi", "sddecc")}
OWN_ROWS.update(_with_params(FIRST_MAP_ROWS, local_layer=0))
TABLE3 = ("kmeans", "ae_kmeans", "dec", "idec", "deepcluster", "sdcn", "sddecc")
TABLE4 = ("convae_rec", "convae", "convae_mi", "convae_gcn", "sddecc")
TABLE_ROWS = tuple(dict.fromkeys(TABLE3 + TABLE4))  # the rows of both tables, each once (SDDECC is in both)
# the fields of a record superseded by --rerun that the new record keeps under "replaces" (with its ``record_device``)
REPLACED_FIELDS = ("acc", "nmi", "ari", "f1", "time", "code_version", "torch_threads")
READINGS = ("sddecc", "sddecc_lc_sum")  # the default and the literal L_c of Eq. 19
# "P + E": the shorter schedule of SHORT_ROWS and the estimator's own (the tables'), for the tables' titles
_SHORT, _OWN = ("{pretrain_epochs} + {epochs}".format(**schedule) for schedule in (
    next(iter(SHORT_EPOCHS.values())), make_method("sddecc").get_params()))
ROW_NAMES = {"kmeans": "K-means", "ae_kmeans": "AE+K-means", "dec": "DEC", "idec": "IDEC",
             "deepcluster": "DeepCluster", "sdcn": "SDCN", "sddecc": "SDDECC (ConvAE+MI+GCN)",
             "convae": "ConvAE", "convae_mi": "ConvAE+MI", "convae_gcn": "ConvAE+GCN",
             "convae_rec": "ConvAE, reconstruction only + k-means",
             "sddecc_lc_sum": "SDDECC, L_c summed (Eq. 19 literal)",
             "sddecc_e2e": "SDDECC, joint training end to end",
             "sddecc_dim_weights": "SDDECC, λ1 = 1.5 on MI, λ2 = 0.01 on the KL (Deep InfoMax code's weights)",
             "deepcluster_conv": "DeepCluster, convolutional backbone",
             "sddecc_latent20": "SDDECC, d = 20",
             "sddecc_unpooled": "SDDECC, conv maps unpooled for the GCN",
             "convae_short": f"ConvAE, {_SHORT} epochs", "sddecc_short": f"SDDECC, {_SHORT} epochs",
             "convae_mi_short": f"ConvAE+MI, {_SHORT} epochs", "convae_gcn_short": f"ConvAE+GCN, {_SHORT} epochs",
             "convae_rec_short": f"ConvAE, reconstruction only + k-means, {_SHORT} epochs",
             "convae_steps": "ConvAE, MNIST's steps", "convae_mi_steps": "ConvAE+MI, MNIST's steps",
             "convae_gcn_steps": "ConvAE+GCN, MNIST's steps", "sddecc_steps": "SDDECC, MNIST's steps",
             "sddecc_steps_gcn": "SDDECC, MNIST's steps, as few GCN steps per DDECN step as on MNIST",
             "sddecc_steps_pretrain": "SDDECC, MNIST's steps in pretraining only",
             "sddecc_steps_joint": "SDDECC, MNIST's steps in joint training only",
             "sddecc_scratch": "SDDECC, no pretraining (Eq. 19 from the initial network)"}
for _rows, _what in ((MSE_ROWS, "reconstruction averaged over the pixels"),
                     (FIRST_MAP_ROWS, "local MI on the first conv map")):
    ROW_NAMES.update({row: f"{ROW_NAMES[base].removesuffix(' (ConvAE+MI+GCN)')}, {_what}"
                      for row, base in _rows.items()})


def _beside_base(rows: dict[str, str]) -> tuple[str, ...]:
    """A VARIANTS table's rows: each row of ``rows`` (row -> base row) after its base row."""
    return tuple(name for row, base in rows.items() for name in (base, row))


# tables of one variant beside the default, shown on the datasets where the variant (the last row) ran
VARIANTS = (("Readings of Eq. 19: L_c averaged over the latent dimensions (default) or summed", READINGS),
            ("Joint training: alternating block steps (default) or end to end", ("sddecc", "sddecc_e2e")),
            ("Weights of Eq. 19: the text's (default) or the Deep InfoMax code's", ("sddecc", "sddecc_dim_weights")),
            ("DeepCluster's backbone: the MLP (default) or convolutional", ("deepcluster", "deepcluster_conv")),
            ("Width of the code: d = 10 (default) or 20", ("sddecc", "sddecc_latent20")),
            ("The conv maps the GCN reads: pooled to at most 4×4 (default) or whole", ("sddecc", "sddecc_unpooled")),
            *((f"Schedule of {ROW_NAMES[row].removesuffix(f', {_SHORT} epochs')} on the 70,000-image datasets: "
               f"{_OWN} epochs (the estimator's, the tables') or {_SHORT} (the tables' until 2026-12-04)", (base, row))
              for row, base in SHORT_ROWS.items()),
            (f"Table 4 on the 70,000-image datasets on the shorter {_SHORT} epochs (the tables' until 2026-12-04)",
             ("convae_rec_short", "convae_short", "convae_mi_short", "convae_gcn_short", "sddecc_short")),
            (f"Table 4 trained for as many optimiser steps as {STEP_REFERENCE.upper()}'s {_OWN} epochs",
             tuple(STEP_ROWS)),
            (f"GCN steps per DDECN step: the estimator's (default) or as few as on {STEP_REFERENCE.upper()}, beside "
             "ConvAE+MI (no GCN)", ("convae_mi_steps", *GCN_RATIO_ROWS.values(), *GCN_RATIO_ROWS)),
            (f"SDDECC with {STEP_REFERENCE.upper()}'s optimiser steps in both stages, in joint training only or in "
             "pretraining only", ("sddecc", "sddecc_steps", *reversed(STAGE_STEP_ROWS))),
            (f"Pretraining: the DDECN first, then joint training ({_OWN} epochs, default), or Eq. 19 from the start",
             ("sddecc", "sddecc_scratch")),
            ("Reconstruction of Eq. 13: summed over the pixels (default) or averaged over them (SDCN's code)",
             _beside_base(MSE_ROWS)),
            ("The map the local MI discriminator reads: the last convolution's (default) or the first's",
             _beside_base(FIRST_MAP_ROWS)))
# Fu et al. 2021: Table 3 from graphclust/bench/papers.yaml; Table 4's ablations (ACC, NMI in %, ARI and F1
# not reported) here, per dataset in DATASETS' order
_TABLE4_ACC_NMI = {
    "convae": ((69.81, 65.19), (77.62, 74.50), (54.62, 55.63)),
    "convae_mi": ((78.53, 74.42), (83.50, 80.23), (59.22, 60.91)),
    "convae_gcn": ((78.22, 78.75), (85.74, 84.49), (58.43, 61.67)),
}
_TABLE4_ACC_NMI["convae_rec"] = _TABLE4_ACC_NMI["convae"]  # two readings of the paper's one ConvAE row
PAPER = {**paper_figures("sddecc"),
         **{(dataset, row): (*acc_nmi, None, None)
            for row, values in _TABLE4_ACC_NMI.items() for dataset, acc_nmi in zip(DATASETS, values)}}


def sources(dataset: str) -> dict[str, Path]:
    """Row label -> the JSONL file that holds its runs on ``dataset``."""
    files = {row: RESULTS / f"baselines_{dataset}.jsonl" for row in BASELINES}
    files["sdcn"] = RESULTS / "graph_methods.jsonl"
    files.update({row: RESULTS / "sddecc.jsonl" for row in OWN_ROWS})
    return files


def batches_per_epoch(dataset: str) -> int:
    """SDDECC's mini-batches (of its default ``batch_size``) per epoch on ``dataset``, from its catalog size."""
    return math.ceil(get_entry(dataset)["n_samples"] / make_method("sddecc").batch_size)


def row_params(dataset: str, row: str) -> tuple[str, dict]:
    """(estimator, parameters beyond its defaults) of one of ``OWN_ROWS`` on ``dataset``: SDDECC's rows
    with the dataset's ``SDDECC_EPOCHS`` (none: the estimator's own schedule), except ``SHORT_ROWS``, which train
    for the dataset's ``SHORT_EPOCHS`` (ValueError on a dataset without), ``STEP_ROWS``, which scale the
    estimator's schedule to as many optimiser steps as it makes on ``STEP_REFERENCE`` (epochs times
    the reference's batches per epoch over the dataset's, rounded), and ``GCN_RATIO_ROWS``, their base row with
    ``gcn_steps`` scaled by the dataset's batches per epoch over the reference's (at least 1); the
    reconstruction-only ConvAE pretrains for the epochs the other rows train in all (pretraining + joint), so
    every row of Table 4 trains as long."""
    method, extra = OWN_ROWS[row]
    if method != "sddecc":
        return method, dict(extra)
    if row in GCN_RATIO_ROWS:
        method, extra = row_params(dataset, GCN_RATIO_ROWS[row])
        ratio = batches_per_epoch(dataset) / batches_per_epoch(STEP_REFERENCE)
        return method, {**extra, "gcn_steps": max(1, round(make_method("sddecc").gcn_steps * ratio))}
    default = make_method("sddecc")
    if row in STEP_ROWS or row in STAGE_STEP_ROWS:
        scale = batches_per_epoch(STEP_REFERENCE) / batches_per_epoch(dataset)
        stages = (STAGE_STEP_ROWS[row],) if row in STAGE_STEP_ROWS else ("pretrain_epochs", "epochs")
        schedule = {stage: round(getattr(default, stage) * scale) for stage in stages}
        params = {**extra, **schedule}
    else:
        if row in SHORT_ROWS and dataset not in SHORT_EPOCHS:
            raise ValueError(f"row {row!r} has a shorter schedule only on {', '.join(SHORT_EPOCHS)}, not {dataset!r}")
        schedule = SHORT_EPOCHS[dataset] if row in SHORT_ROWS else SDDECC_EPOCHS.get(dataset, {})
        params = {**schedule, **extra}
    if SHORT_ROWS.get(row, row) == "convae_rec":  # pretraining alone, for as many epochs as the others train in all
        params.update(pretrain_epochs=schedule.get("pretrain_epochs", default.pretrain_epochs)
                      + schedule.get("epochs", default.epochs), epochs=extra["epochs"])
    return method, params


def own_row_model(dataset: str, row: str, *, n_clusters: int, seed: int, device: str, verbose: bool):
    """The unfitted estimator of one of ``OWN_ROWS`` on ``dataset`` (:func:`row_params`)."""
    method, extra = row_params(dataset, row)
    return make_method(method, n_clusters=n_clusters, random_state=seed, device=device, verbose=verbose, **extra)


def code_stats(model, data, chunk: int = 2048) -> dict:
    """Label-free state of a fitted SDDECC's code (the measure its ``kl_reduction`` note uses):
    ``rate_nats``, the mean KL(p(z|x) ‖ N(0, I)) summed over the d dimensions (an upper bound on the
    information the code carries); ``active_dims``, the dimensions whose μ(x) varies across images
    (variance ≥ 0.01); ``rec_explained``, the share of the pixel variance the decoder recovers from
    μ(x), 1 − ‖X − dec(μ)‖² / ‖X − mean X‖²; ``objective``, Eq. 19 without the MI terms (estimated
    on random negatives) at the final model on the whole data set, made deterministic by decoding
    the code's mean: 1/(2N)‖X − dec(μ(x))‖² + λ2 · L_c(Y, μ(x), σ(x)), with the fit's Y and L_c's
    reduction (training decodes a sampled z, so its reconstruction term is larger by what the
    code's noise σ costs), by which training schemes of the same objective compare without labels;
    ``posterior_clusters``, how many clusters the DDECN's own posterior softmax(−½‖μ(x) − μ_y‖²) uses
    (its argmax), beside the read-out's; ``warmup_agreement`` (with the GCN), the share of images on
    which the GCN's argmax agreed with that posterior at the end of its warm-up; ``final_agreement``, the share on
    which the read-out (argmax Y; without the GCN, that posterior itself: 1) agrees with it at the final model;
    ``y_entropy`` and ``posterior_entropy``, the mean entropy in nats of Y's rows and of that posterior's (0: one-hot,
    log K: uniform), how soft L_c's target is against the DDECN's own assignment.
    ``chunk``: rows per forward pass."""
    import torch

    module = model.module_
    device = next(module.parameters()).device
    reduction = model._kl_reductions()[1]
    means = module.cluster_means.detach()
    rate, squared, clu = 0.0, 0.0, 0.0
    x = data.x
    with torch.no_grad():
        for rows, part in zip(torch.arange(len(x)).split(chunk), x.split(chunk)):
            enc = module.encode(part.to(device))
            rate += float(gaussian_prior_kl(enc.mu, enc.logvar)) * len(part)  # the part's mean, summed over d
            squared += float((module.decode(enc.mu).cpu() - part).pow(2).sum())
            y = torch.as_tensor(model.soft_labels_[rows.numpy()], device=device)
            clu += float(joint_clustering_loss(y, enc.mu, enc.logvar, means, reduction=reduction)) * len(part)
    mu = torch.as_tensor(model.embedding_)
    with torch.no_grad():
        posterior = module.latent_posterior(mu.to(device)).cpu()
    own = posterior.argmax(dim=1)

    def entropy(p: torch.Tensor) -> float:  # the rows' mean entropy, nats
        return float(-(p * p.clamp_min(1e-12).log()).sum(dim=1).mean())

    warmup = [r["agreement"] for r in model.history_ if r.get("stage") == "gcn_warmup" and "agreement" in r]
    return {"rate_nats": rate / len(x), "active_dims": int((mu.var(dim=0) >= 0.01).sum()),
            "rec_explained": 1.0 - squared / float((x - x.mean(dim=0)).pow(2).sum()),
            "objective": squared / (2 * len(x)) + model.lambda2 * clu / len(x),
            "posterior_clusters": len(set(own.tolist())), "warmup_agreement": warmup[-1] if warmup else None,
            "final_agreement": float((own == torch.as_tensor(model.labels_)).float().mean()),
            "y_entropy": entropy(torch.as_tensor(model.soft_labels_, dtype=torch.float32)),
            "posterior_entropy": entropy(posterior)}


def run_own_row(data, dataset: str, row: str, seed: int, out: Path, *, device: str, env: dict,
                verbose: bool = True, replaces: dict | None = None) -> None:
    """One DeepCluster / SDDECC / ablation run, appended to ``out`` under the row's label.
    ``replaces``: the record of the same run that this one supersedes (``--rerun``); its scores
    and time are kept in the new record's ``replaces`` field."""
    model = own_row_model(dataset, row, n_clusters=int(data.y.max()) + 1, seed=seed, device=device, verbose=verbose)
    fit_and_record(model, data, dataset, row, OWN_ROWS[row][0], seed, out, env=env, replaces=replaces)


def fit_and_record(model, data, dataset: str, label: str, estimator: str, seed: int, out: Path, *, env: dict,
                   extra: dict | None = None, replaces: dict | None = None) -> None:
    """Fit ``model`` (checkpointed: killed half-way, it resumes), score its final labels and append
    the run to ``out`` under ``label`` (an SDDECC run with its label-free ``code`` state,
    :func:`code_stats`); ``extra``: more fields for the record."""
    name = f"{dataset}_{label}_seed{seed}"
    elapsed, resumed = checkpointed_fit(model, data, name)  # a run killed half-way resumes from its checkpoint
    scores = evaluate(data.y.numpy(), model.labels_)
    code = ({"code": code_stats(model, data), "loss_terms": loss_terms(model.history_, data.x.shape[1])}
            if estimator == "sddecc" else {})
    append_run(out, {"dataset": dataset, "method": label, "estimator": estimator, "seed": seed, **(extra or {}),
                     **scores, **code, "clusters_found": len(set(model.labels_.tolist())),
                     "time": elapsed, "epochs_run": len(model.history_), "config": repr(model),
                     "full_config": model_config(model), "peak_rss_mib": peak_rss_mib(), "versions": env,
                     "device": device_label(model.get_params().get("device")),
                     **({"graph_build": model.graph_build_} if getattr(model, "graph_build_", None) else {}),
                     BEST_EPOCH_KEY: best_epoch_acc(model.history_), MONITOR_KEY: monitored_acc(model.history_),
                     **({"resumed": resumed} if resumed else {}),
                     **({"replaces": {**{k: replaces.get(k) for k in REPLACED_FIELDS},
                                      "device": record_device(replaces)}} if replaces else {})})
    drop_checkpoint(name)  # recorded: the checkpoint is not needed any more
    print(f"{dataset} {label} seed {seed}: " + " ".join(f"{k}={v:.4f}" for k, v in scores.items())
          + f" ({elapsed:.0f}s)" + (f"; the record it replaces: acc={replaces['acc']:.4f}" if replaces else ""),
          flush=True)


LAMBDA1_GRID = (0.001, 0.005, 0.01, 0.05, 0.1)  # the grids the paper searches (Fig. 7)
LAMBDA2_GRID = (1.0, 1.25, 1.5, 1.75, 2.0)
LOGGED_TERMS = ("loss", "rec", "prior_kl", "clu", "mi_global", "mi_local")  # of an SDDECC fit's history_
CHANCE_JS = 2 * math.log(2)  # the JS MI loss of a discriminator that cannot tell its pairs apart


def loss_terms(history: list[dict], pixels: int) -> dict:
    """The loss terms an SDDECC fit logged (``history_``: per sample, each epoch's mean over its
    batches), label-free: for each stage, those of its last epoch and how many epochs it ran; the
    global MI loss of every pretraining epoch (``mi_global_pretrain``); the loss of every epoch of each stage, at 4
    digits (``loss_curve``: whether a stage's loss was still falling at its end); ``pixels``, the input's width, by
    which a summed reconstruction compares with a per-pixel mean."""
    terms: dict = {"pixels": int(pixels)}
    for stage in ("pretrain", "joint"):
        records = [r for r in history if r.get("stage") == stage]
        if records:
            terms[stage] = {"epochs": len(records), **{k: records[-1][k] for k in LOGGED_TERMS if k in records[-1]}}
            terms.setdefault("loss_curve", {})[stage] = [round(float(r["loss"]), 4) for r in records]
    curve = [r["mi_global"] for r in history if r.get("stage") == "pretrain" and "mi_global" in r]
    if curve:
        terms["mi_global_pretrain"] = curve
    return terms


def mi_share(stage: dict, lambda1: float, weight: float) -> float:
    """The share of a stage's loss the MI terms would take at λ1 = ``weight`` (the stage ran at
    ``lambda1``), everything else as logged."""
    mi = stage["mi_global"] + stage["mi_local"]
    return weight * mi / (stage["loss"] - lambda1 * mi + weight * mi)


def mi_note(runs: list[dict]) -> str:
    """The section on how little the MI terms weigh in the loss, from the loss terms recorded with the
    ConvAE+MI runs (``loss_terms``; "" before any has them), per dataset, mean ± std over its seeds."""
    acc = accs_by_run(runs)
    lines = []
    for dataset, mine in runs_by_dataset(runs, "convae_mi").items():
        mine = [r for r in mine if "loss_terms" in r and {"pretrain", "joint"} <= set(r["loss_terms"])]
        if not mine:
            continue
        config = mine[0]["full_config"]
        lambda1, lambda2 = config["lambda1"], config["lambda2"]
        pre, joint = ([r["loss_terms"][stage] for r in mine] for stage in ("pretrain", "joint"))
        pixels = mine[0]["loss_terms"]["pixels"]

        def cell(stages, value, digits=3):
            return mean_std([value(t) for t in stages], digits)

        def row(name, value, digits=3):
            return f"| {name} | {cell(pre, value, digits)} | {cell(joint, value, digits)} |"

        gain = paired_gain(acc, dataset, "convae", "convae_mi")
        paper = PAPER[(dataset, "convae_mi")][0] - PAPER[(dataset, "convae")][0]
        curves = [r["loss_terms"]["mi_global_pretrain"] for r in mine]
        early = [c[4] for c in curves if len(c) > 4]
        rec_mean = mean_and_std([t["rec"] / pixels for t in pre])[0]
        joint_share = cell(joint, lambda t: 100 * mi_share(t, lambda1, lambda1), 2)
        kl = mean_and_std([lambda2 * t["prior_kl"] for t in pre])[0]
        lines += [f"**{dataset}** (ConvAE+MI, seeds {seed_list([r['seed'] for r in mine])}; the paper's ConvAE+MI "
                  f"gains {paper:+.1f} points over ConvAE"
                  + ("" if gain is None else f", ours {gain[1]:+.1f}") + "). Per sample, the last epoch of each "
                  "stage, mean ± std over the seeds:\n",
                  f"| term | pretraining, epoch {pre[0]['epochs']} | joint, epoch {joint[0]['epochs']} |",
                  "|---|---|---|",
                  row(f"reconstruction, ½‖x − x̂‖² summed over the {pixels} pixels (Eq. 19's 1/(2N)‖X − X̂‖²_F)",
                      lambda t: t["rec"], 2),
                  f"| λ2 · prior KL (λ2 = {lambda2:g}) / λ2 · L_c | {cell(pre, lambda t: lambda2 * t['prior_kl'], 2)} "
                  f"| {cell(joint, lambda t: lambda2 * t['clu'], 2)} |",
                  row(f"global JS MI loss (chance: 2 ln 2 = {CHANCE_JS:.3f})", lambda t: t["mi_global"]),
                  row("local JS MI loss", lambda t: t["mi_local"]),
                  row(f"λ1 · (global + local), λ1 = {lambda1:g}", lambda t: lambda1 * (t["mi_global"] + t["mi_local"])),
                  f"| their share of the loss, % | {cell(pre, lambda t: 100 * mi_share(t, lambda1, lambda1), 2)} "
                  f"| {joint_share} |",
                  "",
                  "- The global discriminator soon separates its pairs almost perfectly: its loss is "
                  + (f"{mean_std(early, 3)} after 5 epochs and " if early else "")
                  + f"{mean_std([c[-1] for c in curves], 3)} after {len(curves[0])}, against {CHANCE_JS:.3f} at "
                  "chance, so its term has little gradient left to give.",
                  f"- The MI terms are {joint_share}% of the loss "
                  f"at the end of joint training at λ1 = {lambda1:g}, and would be "
                  f"{cell(joint, lambda t: 100 * mi_share(t, lambda1, max(LAMBDA1_GRID)), 1)}% at the grid's largest "
                  f"λ1 = {max(LAMBDA1_GRID):g} (what the grid's cells score: *SDDECC over the paper's λ grid* below).",
                  f"- For them to weigh like the reconstruction, the reconstruction would have to be a mean over "
                  f"pixels ({rec_mean:.4f} at the end of pretraining). Then λ2 · KL (about {kl:.2f}) would outweigh "
                  f"it about {kl / rec_mean:.0f}-fold: a far heavier KL, relative to the reconstruction, than the "
                  "literal summed-KL reading, which already squeezed the code to 1.6 nats (`SDDECC` docstring, "
                  "`kl_reduction`).\n"]
    if not lines:
        return ""
    return "\n".join(["## Why the MI terms add little here (Table 4)\n",
                      "The loss terms of the ConvAE+MI runs (recorded from each fit's `history_` as `loss_terms`, "
                      "label-free) show how much the MI terms weigh beside the others.\n", *lines,
                      "So no reading of Eq. 19 with the paper's λ grid gives the MI terms the weight that the paper's "
                      "gain would need. Read the other way round (λ1 = 1.5 on the MI terms, λ2 = 0.01 on the KL, the "
                      "weights of the public Deep InfoMax code) they weigh about as much as the reconstruction: "
                      "*Weights of Eq. 19* below gives what that reading scores. The tables report what the stated "
                      "objective gives; no λ was chosen by looking at labels.\n"])


def runs_by_dataset(runs: list[dict], row: str) -> dict[str, list[dict]]:
    """The runs of ``row`` per dataset (in order of first appearance), each list sorted by seed."""
    grouped: dict[str, list[dict]] = {}
    for run in runs:
        if run["method"] == row:
            grouped.setdefault(run["dataset"], []).append(run)
    return {dataset: sorted(mine, key=lambda r: r["seed"]) for dataset, mine in grouped.items()}


def seed_runs(runs: list[dict], row: str, dataset: str, seeds) -> list[dict]:
    """The runs of ``row`` on ``dataset`` whose seed is among ``seeds``, sorted by seed."""
    return sorted((r for r in runs if r["method"] == row and r["dataset"] == dataset and r["seed"] in set(seeds)),
                  key=lambda r: r["seed"])


def beside_default(runs: list[dict], dataset: str, variant: list[dict], names: tuple[str, str],
                   default_row: str = "sddecc") -> list[str]:
    """Lines setting a variant's runs on ``dataset`` beside the runs of ``default_row`` (the default SDDECC)
    of the same seeds: ACC, then the label-free state of the code at the end of joint training (``code`` in
    the records). ``names``: what to call the variant and the default."""
    seeds = [r["seed"] for r in variant]
    default = seed_runs(runs, default_row, dataset, seeds)
    whose = "the default's" if default_row == "sddecc" else f"the {ROW_NAMES[default_row]} row's"
    lines = [f"- {dataset}, seeds {', '.join(map(str, seeds))}: ACC {mean_std([r['acc'] for r in variant], 4)} "
             f"{names[0]} against {mean_std([r['acc'] for r in default], 4)} {names[1]} ({whose} runs of the same "
             "seeds)."]
    # one cluster for every image (older records lack the count: NMI 0, labels that tell nothing of the classes)
    flat = [r["seed"] for r in variant if r.get("clusters_found", 1 if r.get("nmi") == 0 else None) == 1]
    if flat:
        lines.append(f"- {names[0].capitalize()}, seed{'s' if len(flat) > 1 else ''} {', '.join(map(str, flat))} "
                     "ended with every image in one cluster (NMI 0; its ACC is the largest class's share).")
        own = [r for r in variant if r["seed"] in flat and r.get("code", {}).get("warmup_agreement") is not None]
        lines += [f"  Seed {r['seed']}: the model's own posterior uses {r['code']['posterior_clusters']} clusters, "
                  f"and the GCN ended its warm-up agreeing with it on {100 * r['code']['warmup_agreement']:.1f}% of "
                  "the images: the GCN, not the code, collapsed." for r in own if r["code"]["posterior_clusters"] > 1]
    for name, rec in zip(names, (variant, default)):
        rec = [r for r in rec if "code" in r]
        if rec:
            code = {k: [r["code"][k] for r in rec] for k in ("rate_nats", "active_dims", "rec_explained")}
            width = rec[0].get("full_config", {}).get("latent", 10)  # older records: the default then, 10
            lines.append(f"- The code at the end of joint training (label-free, `code` in the records), {name}, "
                         f"seeds {', '.join(str(r['seed']) for r in rec)}: {mean_std(code['rate_nats'], 1)} nats "
                         f"(mean KL to N(0, I)), {mean_std(code['active_dims'], 0)} active dimensions of {width}, and "
                         f"the decoder recovers {mean_std([100 * v for v in code['rec_explained']], 1)}% of the "
                         "pixel variance from μ(x).")
    return lines


def variant_note(runs: list[dict], row: str, title: str, intro: str, names: tuple[str, str], closing: str) -> str:
    """A section setting the variant ``row`` beside the default on every dataset it ran on (see
    :func:`beside_default`), between ``intro`` and ``closing``; "" before the variant ran."""
    variant = runs_by_dataset(runs, row)
    if not variant:
        return ""
    lines = [f"## {title}\n", intro]
    for dataset, mine in variant.items():
        lines += beside_default(runs, dataset, mine, names)
    return "\n".join([*lines, closing])


def weights_note(runs: list[dict]) -> str:
    """The section on the λ1/λ2 weights of the Deep InfoMax code against the text's."""
    return variant_note(
        runs, "sddecc_dim_weights", "Weights of Eq. 19: the text's or the Deep InfoMax code's",
        "Eq. 19 puts λ1 on the MI terms and λ2 on L_c, and Fig. 7 searches λ1 in {0.001, ..., 0.1} and λ2 in "
        "{1, ..., 2}; the defaults are the grids' centres, λ1 = 0.01 and λ2 = 1.5. These are also the weights "
        "the public Keras Deep InfoMax code, whose global/local/prior design the DDECN follows, gives its prior "
        "KL (0.01) and its local MI term (1.5): the other way round. The row *SDDECC, λ1 = 1.5 on MI, λ2 = 0.01 "
        "on the KL* runs that reading (the prior KL of pretraining and L_c both at 0.01), same seeds, same "
        "schedule:\n", ("with the code's weights", "with the text's"),
        "\nThe default keeps the text's reading; these figures only show what the other one gives and chose "
        "nothing.\n")


def readings_note(runs: list[dict]) -> str:
    """The section on the two readings of L_c."""
    return variant_note(
        runs, "sddecc_lc_sum", "Reading of L_c: averaged or summed over the latent dimensions",
        "Eq. 19 sums L_c over the d = 10 latent dimensions; the default averages it (`kl_reduction=\"mean\"`), "
        "a reading chosen without labels for the prior KL of pretraining, where the summed KL squeezed the code "
        "(`SDDECC` docstring). Pretraining is not in the paper, so that measurement does not settle L_c. The row "
        "*SDDECC, L_c summed* keeps pretraining as it is and sums L_c in the joint stage "
        "(`kl_reduction=(\"mean\", \"sum\")`), same seeds:\n", ("summed", "averaged"),
        "\nSummed, L_c weighs ten times more against the reconstruction, and the code loses most of what it "
        "carried, as under the summed prior KL in pretraining: that is the label-free reason the default averages "
        "L_c too. The public Keras code that defines this L_c (q(z|y) = N(μ_y, I), q(y) uniform) weighs it about the "
        "same way: it sums the KL over its d = 20 dimensions with weight 1 against the reconstruction "
        "½‖x − x̂‖², summed over the pixels, with weight 5, so the summed KL counts 0.2 per unit of "
        "reconstruction; averaged over d = 10 at λ2 = 1.5 it counts 0.15, summed 1.5. The ACC figures above only "
        "show what the literal reading gives; they chose nothing.\n")


def latent_note(runs: list[dict]) -> str:
    """The section on a 20-dimensional code against the default's 10."""
    return variant_note(
        runs, "sddecc_latent20", "Width of the code: d = 10 or 20",
        "The paper does not give the width d of the code z. The default d = 10 is DEC's and SDCN's; the public Keras "
        "code that defines L_c as the paper states it (q(z|y) = N(μ_y, I) with learnable μ_y, q(y) uniform, "
        "p(y|z) a classifier of z) uses d = 20. The row *SDDECC, d = 20* changes only that, same seeds, same "
        "schedule:\n", ("at d = 20", "at d = 10"),
        "\nThe default stays d = 10; these figures only show what the other width gives and chose nothing.\n")


def pooling_note(runs: list[dict]) -> str:
    """The section on the GCN reading whole conv maps against the default's maps pooled to at most 4×4."""
    return variant_note(
        runs, "sddecc_unpooled", "The conv maps the GCN reads: pooled or whole",
        "The GCN mirrors the encoder through the transfer operator (1 − δ)H + δZ, Z^(l) the l-th convolution's "
        "activation map flattened. The default average-pools each map to at most 4×4 first (`transfer_size=4`), "
        "set for the cost on MNIST, where whole maps make the GCN 784-3136-784-1568-1568-d-K (`SDDECCModule` "
        "docstring). The row *SDDECC, conv maps unpooled for the GCN* (`transfer_size=None`) hands the GCN the whole "
        "maps, on USPS 256-1024-512-d-K instead of 256-256-512-d-K, everything else the same; its time per run is in "
        "the table above:\n", ("with whole maps", "pooled to 4×4"),
        "\nThe default stays pooled; these figures only show what the pooling costs or gives and chose nothing.\n")


def mse_note(runs: list[dict]) -> str:
    """The section on the reconstruction averaged over the pixels against Eq. 13's sum over them."""
    return variant_note(
        runs, "sddecc_mse", "Reconstruction of Eq. 13: summed over the pixels or averaged over them",
        "Eq. 13 writes L_r = 1/(2N)‖X − X̂‖²_F, half the squared error summed over the F pixels, which the default "
        "computes. SDCN, whose graph part the paper follows (\"as Bo et al.\"), writes the same formula and its code "
        "computes `F.mse_loss`, the mean over all N·F entries, F/2 times lighter (128 on USPS). Read that way, the "
        "MI terms would weigh about as much as the reconstruction (*Why the MI terms add little* above). The rows "
        "*..., reconstruction averaged over the pixels* (`reconstruction=\"mean\"`) run that reading, everything "
        "else the same, for Table 4's four models (table above):\n", ("averaged over the pixels", "summed over them"),
        "\nAveraged, λ2 · KL(p(z|x) ‖ N(0, I)) of pretraining outweighs the reconstruction, and the code carries "
        "next to nothing (above, label-free): the encoder's posterior becomes the prior, so k-means on μ(x) and "
        "L_c have nothing to cluster. The reading does not fit the paper's λ2 grid {1, ..., 2} with this "
        "pretraining; the default keeps Eq. 13 as written, and these figures chose nothing.\n")


def scratch_note(runs: list[dict]) -> str:
    """The section on SDDECC trained on Eq. 19 from the initial network, without pretraining."""
    return variant_note(
        runs, "sddecc_scratch", "Pretraining or none",
        "The paper trains SDDECC on Eq. 19 \"end to end\" until a maximum number of iterations and states no "
        f"pretraining; the default first trains the DDECN alone ({make_method('sddecc').pretrain_epochs} epochs, as "
        "SDCN pretrains its autoencoder) and initialises μ_y by k-means on the pretrained μ(x). The row *SDDECC, no "
        "pretraining* starts joint training from the initial network instead (μ_y from k-means on its μ(x), then "
        "the GCN warm-up as always) and trains it for as many epochs as the default's two stages make together:\n",
        ("without pretraining", "with it"),
        "\nThe default keeps its pretraining; these figures only show what the literal reading gives and chose "
        "nothing.\n")


def first_map_note(runs: list[dict]) -> str:
    """The section on the local MI discriminator reading the first convolution's map (``FIRST_MAP_ROWS``), each
    row beside its base row of the same seeds, with the local JS MI loss at the end of each stage (label-free);
    "" before any ran."""
    acc = accs_by_run(runs)
    lines = []
    for row, base in FIRST_MAP_ROWS.items():
        for dataset, mine in runs_by_dataset(runs, row).items():
            lines += beside_default(runs, dataset, mine, ("on the first map", "on the last"), default_row=base)
            gain = paired_gain(acc, dataset, base, row)
            if gain:
                lines.append(f"- Seed-paired, the first map against the last: {gain_text(gain)}.")
            stages = [(name, stage) for name, stage in (("pretraining", "pretrain"), ("joint training", "joint"))
                      if all(stage in r.get("loss_terms", {}) for r in mine)]
            for name, stage in stages:
                first = [r["loss_terms"][stage]["mi_local"] for r in mine]
                base_runs = seed_runs(runs, base, dataset, [r["seed"] for r in mine])
                last = [r["loss_terms"][stage]["mi_local"] for r in base_runs if stage in r.get("loss_terms", {})]
                if not last:  # the base row's records predate loss_terms (USPS's SDDECC)
                    continue
                lines.append(f"- Local JS MI loss at the end of {name} (label-free; chance {CHANCE_JS:.3f}): "
                             f"{mean_std(first, 3)} on the first map, {mean_std(last, 3)} on the last.")
            if base == "convae_mi":
                paper = PAPER[(dataset, "convae_mi")][0] - PAPER[(dataset, "convae")][0]
                gains = [(what, paired_gain(acc, dataset, "convae", high)) for what, high in
                         (("on the first map", row), ("on the last", base))]
                lines.append(f"- ConvAE+MI over ConvAE (the paper: {paper:+.1f} points), seed-paired: "
                             + "; ".join(f"{what} {gain_text(gain)}" for what, gain in gains if gain) + ".")
    if not lines:
        return ""
    return "\n".join([
        "## The map the local MI discriminator reads: the last convolution's or the first's\n",
        "The paper takes the local features C(x) \"from a middle layer of the convolutional network\" and does not "
        "name the layer; the default reads the last convolution's map, the one the μ and log σ² heads read (USPS "
        "32×4×4, 16 positions), as Deep InfoMax reads a late conv map. The rows *..., local MI on the first conv "
        "map* (`local_layer=0`) read the first convolution's map instead (USPS 16×8×8, 64 positions, the middle of "
        "USPS's two-layer encoder), everything else the same, each beside its base row of the same seeds:\n",
        *lines,
        "\nThe default keeps the last map; these figures only show what the other reading gives and chose "
        "nothing.\n"])


def epochs_name(dataset: str, row: str) -> str:
    """"at P + E epochs": the schedule of one of ``OWN_ROWS`` on ``dataset`` (:func:`row_params`)."""
    default, extra = make_method("sddecc"), row_params(dataset, row)[1]
    return f"at {extra.get('pretrain_epochs', default.pretrain_epochs)} + {extra.get('epochs', default.epochs)} epochs"


def late_fall(curve: list[float], share: float = 0.1) -> float:
    """How much a stage's loss fell over its last ``share`` of epochs, in % of the loss where that stretch began
    (the loss of the epoch before it); label-free: near 0 once the stage has converged."""
    n = min(max(1, round(share * len(curve))), len(curve) - 1)
    start = curve[-n - 1]
    return 100 * (start - curve[-1]) / abs(start)


def convergence_line(mine: list[dict], name: str) -> list[str]:
    """A line (none before any run has ``loss_curve``) on how much the loss of each stage fell over its last tenth
    of epochs (:func:`late_fall`), mean ± std over the seeds. ``name``: what to call the runs' schedule."""
    rec = [r for r in mine if "loss_curve" in r.get("loss_terms", {})]
    stages = [stage for stage in ("pretrain", "joint") if all(len(r["loss_terms"]["loss_curve"].get(stage, ())) > 1
                                                             for r in rec)]
    if not rec or not stages:
        return []
    falls = [f"{mean_std([late_fall(r['loss_terms']['loss_curve'][stage]) for r in rec], 2)}% in "
             + {"pretrain": "pretraining", "joint": "joint training"}[stage] for stage in stages]
    return [f"- The loss over the last tenth of each stage's epochs (label-free, `loss_terms.loss_curve`), {name}, "
            f"seeds {', '.join(str(r['seed']) for r in rec)}: it fell by {' and by '.join(falls)}."]


def trajectory_line(mine: list[dict], name: str) -> list[str]:
    """A line (none before any run has ``MONITOR_KEY``) on the monitored ACC of joint training, against the labels,
    a diagnosis only: at its first epoch, half-way and at its last, mean ± std over the seeds."""
    rec = [r for r in mine if r.get(MONITOR_KEY)]
    if not rec:
        return []
    points = {"at the first epoch": lambda c: c[0], "half-way": lambda c: c[(len(c) - 1) // 2],
              "at the last": lambda c: c[-1]}
    return [f"- The monitored ACC of joint training (against the labels, a diagnosis that chose nothing; "
            f"`{MONITOR_KEY.split()[0]}`), {name}, seeds {', '.join(str(r['seed']) for r in rec)}: "
            + ", ".join(f"{mean_std([pick(r[MONITOR_KEY]) for r in rec], 4)} {point}"
                        for point, pick in points.items()) + "."]


def entropy_line(mine: list[dict], name: str) -> list[str]:
    """A line (none before any run recorded them) on how soft L_c's target Y is against the DDECN's own posterior:
    the mean entropy of their rows (``code.y_entropy``, ``code.posterior_entropy``), mean ± std over the seeds that
    recorded it, beside log K, the entropy of a uniform row."""
    rec = [r for r in mine if "y_entropy" in r.get("code", {})]
    if not rec:
        return []
    clusters = int(rec[0]["full_config"]["n_clusters"])
    y, own = (mean_std([r["code"][key] for r in rec], 3) for key in ("y_entropy", "posterior_entropy"))
    seeds = seed_list([r["seed"] for r in rec])
    return [f"- How soft the read-out is (label-free, `code.y_entropy`, `code.posterior_entropy`: the mean entropy of "
            f"a row, in nats; {math.log(clusters):.3f} for a uniform one), {name}, seeds {seeds}: Y {y}, the DDECN's "
            f"own posterior {own}."]


def schedule_section(runs: list[dict], rows: dict[str, str], title: str, intro: str, closing: str,
                     heading: str = "base") -> str:
    """A section on ``rows`` (row -> its row of the tables) that change only the schedule, each beside its row of
    the tables on the seeds both ran, by ACC, the Eq. 19 value reached (label-free), NMI and time; "" before any
    ran. Each row's lines come under the name of its row of the tables (``heading="base"``) or its own
    (``"row"``: for rows that share one row of the tables)."""
    paired = {row: {dataset: (mine, default) for dataset, mine in runs_by_dataset(runs, row).items()
                    if (default := seed_runs(runs, rows[row], dataset, [r["seed"] for r in mine]))}
              for row in rows}  # row -> dataset -> (its runs, the other row's runs of the seeds both ran)
    if not any(paired.values()):
        return ""
    lines = [f"## {title}\n", intro]
    for row, variant in paired.items():
        if variant:
            lines.append(f"\n{ROW_NAMES[rows[row] if heading == 'base' else row]}:\n")
        for dataset, (mine, default) in variant.items():
            names = (epochs_name(dataset, row), epochs_name(dataset, rows[row]).removesuffix(" epochs"))
            lines += beside_default(runs, dataset, mine, names, rows[row])
            lines += objective_line(mine, default, names, "- ")
            lines += convergence_line(mine, names[0]) + convergence_line(default, names[1])
            lines += trajectory_line(mine, names[0]) + trajectory_line(default, names[1])
            nmi, time = ([mean_std([r[key] for r in rec], digits) for rec in (mine, default)]
                         for key, digits in (("nmi", 4), ("time", 0)))
            where = [devices_of(rec) for rec in (mine, default)]
            on = [f" ({w})" if where[0] != where[1] else "" for w in where]
            lines.append(f"- NMI {nmi[0]} {names[0]} against {nmi[1]} {names[1]}; {time[0]} s{on[0]} against "
                         f"{time[1]} s{on[1]} per run.")
    return "\n".join([*lines, closing])


def schedule_note(runs: list[dict]) -> str:
    """The section on the rows trained on the shorter schedule the tables used on the 70,000-image datasets until
    2026-12-04 (``SHORT_ROWS``), each beside its row of the tables."""
    rows = {row: base for row, base in SHORT_ROWS.items() if base != "convae_rec"}  # no joint stage, no L_c: its
    # table (*Schedule of ConvAE, reconstruction only + k-means*) is all there is to compare
    return schedule_section(
        runs, rows, f"Schedule: the estimator's {_OWN} epochs or {_SHORT}",
        f"The tables train SDDECC and its ablations on the estimator's {_OWN} epochs. On MNIST and Fashion-MNIST "
        f"they trained for {_SHORT} (`SHORT_EPOCHS`) until 2026-12-04, to fit the CPU's time. Those runs are the "
        f"rows *..., {_SHORT} epochs*, everything else the same, here beside the tables' rows of the same seeds to "
        "show what the shorter schedule costs:",
        "\nThe tables moved to the estimator's schedule once every ablation of Table 4 had run it on both datasets, "
        "as planned before those runs; these figures chose nothing.\n")


def steps_note(runs: list[dict]) -> str:
    """The section on the rows trained for as many optimiser steps as the estimator's schedule makes on
    ``STEP_REFERENCE`` (``STEP_ROWS``)."""
    model, reference = make_method("sddecc"), STEP_REFERENCE.upper()
    batches = {name: batches_per_epoch(name) for name in ("usps", STEP_REFERENCE)}
    schedule = _OWN
    return schedule_section(
        runs, STEP_ROWS, f"Schedule in optimiser steps: as many as {schedule} epochs of {reference}",
        f"The estimator's {schedule} epochs were set on USPS ({batches['usps']} batches of {model.batch_size} per "
        f"epoch); on {reference} ({batches[STEP_REFERENCE]} batches per epoch) the same epochs make "
        f"{batches[STEP_REFERENCE] / batches['usps']:.1f} times as many optimiser steps, and there they gave the "
        "ConvAE row a lower Eq. 19 value and a higher ACC than the shorter schedule (*Schedule* above). On USPS the "
        "loss is still falling at the end of either stage at the estimator's epochs (label-free: the lines *The loss "
        "over the last tenth of each stage's epochs* below, from the runs that recorded their loss curves). The rows "
        f"*..., MNIST's steps* train for as many steps as {schedule} epochs make on {reference}, everything else the "
        "same:",
        "\nThe tables keep the estimator's epochs; these figures only show what more steps give and chose "
        "nothing.\n")


def stage_steps_note(runs: list[dict]) -> str:
    """The section on the rows that train one stage for as many optimiser steps as ``STEP_ROWS`` do
    (``STAGE_STEP_ROWS``), each beside the default of the same seeds (:func:`schedule_section`), then, on the seeds
    where the default, both single-stage rows and *SDDECC, MNIST's steps* all ran, what each stage's longer schedule
    adds to the default's ACC, seed-paired, against what both add together; "" before either row ran."""
    schedule, reference = _OWN, STEP_REFERENCE.upper()
    section = schedule_section(
        runs, dict.fromkeys(STAGE_STEP_ROWS, "sddecc"),
        "Schedule in optimiser steps, stage by stage: pretraining or joint training",
        f"*SDDECC, MNIST's steps* trains both stages for as many optimiser steps as {schedule} epochs make on "
        f"{reference} (*Schedule in optimiser steps* above). The rows *{ROW_NAMES['sddecc_steps_pretrain']}* and "
        f"*{ROW_NAMES['sddecc_steps_joint']}* lengthen one stage that way and keep the other at the estimator's "
        "epochs, everything else the same, to tell which stage the longer schedule's gain comes from: the code that "
        "pretraining hands to joint training, or joint training itself. Each beside the default of the same seeds:",
        "", heading="row")
    if not section:
        return ""
    acc = accs_by_run(runs)
    longer = {"sddecc_steps_pretrain": "only pretraining longer", "sddecc_steps_joint": "only joint training longer",
              "sddecc_steps": "both stages longer"}
    lines = []
    for dataset in dict.fromkeys(r["dataset"] for r in runs if r["method"] in STAGE_STEP_ROWS):
        seeds = sorted(s for d, m, s in acc if d == dataset and m == "sddecc"
                       and all((dataset, row, s) in acc for row in longer))
        if not seeds:
            continue
        common = {key: value for key, value in acc.items() if key[0] == dataset and key[2] in seeds}
        gains = {row: paired_gain(common, dataset, "sddecc", row) for row in longer}
        alone = sum(gains[row][1] for row in STAGE_STEP_ROWS)
        lines.append(f"- {dataset}, seeds {seed_list(seeds)}, seed-paired over the default "
                     f"({epochs_name(dataset, 'sddecc')}), in points of ACC: "
                     + "; ".join(f"{epochs_name(dataset, row)} ({what}) {gain_text(gains[row])}"
                                 for row, what in longer.items())
                     + f". The two stages lengthened one at a time add {alone:+.1f} points together, against "
                     f"{gains['sddecc_steps'][1]:+.1f} for both at once.")
    if lines:
        lines.insert(0, "Each stage lengthened alone, and both, on the seeds where all four rows ran:\n")
    return "\n".join([section, *lines, "\nThe tables keep the estimator's epochs; these figures only show where a "
                      "longer schedule's gain comes from and chose nothing.\n"])


def gcn_ratio_note(runs: list[dict]) -> str:
    """The section on the rows that update the GCN as seldom per DDECN step as on ``STEP_REFERENCE``
    (``GCN_RATIO_ROWS``), each beside its base row and the row without the GCN (ConvAE+MI) of the same seeds, with
    SDDECC against ConvAE on ``STEP_REFERENCE`` at the estimator's schedule; "" before any ran."""
    ran = {row: runs_by_dataset(runs, row) for row in GCN_RATIO_ROWS}
    if not any(ran.values()):
        return ""
    default, reference = make_method("sddecc"), STEP_REFERENCE.upper()
    batches = batches_per_epoch(STEP_REFERENCE)
    acc = accs_by_run(runs)
    unexplained: list[str] = []  # datasets where the seldom-updated GCN did not score under its base row
    lines = [f"## GCN steps per DDECN step: as on USPS or as on {reference}\n",
             f"Joint training alternates an epoch of N/B mini-batch DDECN steps, with L_c's target Y held at the "
             f"GCN's last output, and gcn_steps = {default.gcn_steps} full-batch GCN steps. Per DDECN step the GCN "
             f"is refreshed {batches / batches_per_epoch('usps'):.1f} times less often on {reference} "
             f"({default.gcn_steps} per {batches}) than on USPS ({default.gcn_steps} per {batches_per_epoch('usps')}),"
             f" and the last line below sets SDDECC beside ConvAE on {reference} at the estimator's schedule. "
             f"The rows *..., as few GCN steps per DDECN step as on {reference}* train as their base row with "
             "gcn_steps scaled by the batches per epoch (at least 1), everything else the same, to test that one "
             "difference on USPS:\n"]
    for row, variant in ran.items():
        base = GCN_RATIO_ROWS[row]
        for dataset, mine in variant.items():
            steps = row_params(dataset, row)[1]["gcn_steps"]
            names = (f"with {steps} GCN step{'s' * (steps != 1)} per epoch",
                     f"with {default.gcn_steps}")
            seeds = [r["seed"] for r in mine]
            other, bare = seed_runs(runs, base, dataset, seeds), seed_runs(runs, "convae_mi_steps", dataset, seeds)
            lines += beside_default(runs, dataset, mine, names, base)
            gain = paired_gain(acc, dataset, base, row)
            if gain:
                lines.append(f"- Seed-paired, {names[0]} against {names[1]}: {gain_text(gain)}"
                             + (" (within the spread)." if within_spread(gain) else "."))
                if within_spread(gain) or gain[1] >= 0:
                    unexplained.append(dataset)
            mine_seeds = {k: v for k, v in acc.items() if k[2] in seeds}
            gains = [paired_gain(mine_seeds, dataset, "convae_mi_steps", high) for high in (row, base)]
            if all(gains):  # both rows have seeds that the row without the GCN ran
                gains = [gain_text(g) for g in gains]
                lines.append(f"- Without the GCN ({ROW_NAMES['convae_mi_steps']}), seeds "
                             f"{', '.join(str(r['seed']) for r in bare)}: ACC {mean_std([r['acc'] for r in bare], 4)}; "
                             f"seed-paired, SDDECC {names[0]} {gains[0]}, {names[1]} {gains[1]}.")
            agreement = [[r["code"]["final_agreement"] for r in rec if "final_agreement" in r.get("code", {})]
                         for rec in (mine, other)]
            shares = [f"{mean_std([100 * a for a in share], 1)}% {name}" for share, name in zip(agreement, names)
                      if share]
            if shares:
                lines.append("- The read-out (argmax Y) agrees with the DDECN's own posterior at the final model "
                             f"(label-free, `code.final_agreement`, the seeds that recorded it) on the images: "
                             f"{', '.join(shares)}.")
            lines += objective_line(mine, other, names, "- ")
            lines += entropy_line(mine, names[0]) + entropy_line(other, names[1])
            lines += trajectory_line(mine, names[0]) + trajectory_line(other, names[1])
            lines.append(f"- {mean_std([r['time'] for r in mine], 0)} s against "
                         f"{mean_std([r['time'] for r in other], 0)} s per run.")
    gain = paired_gain(acc, STEP_REFERENCE, "convae", "sddecc")
    if gain:
        full, bare = (seed_runs(runs, row, STEP_REFERENCE, gain[0]) for row in ("sddecc", "convae"))
        lines.append(f"- {STEP_REFERENCE}, {epochs_name(STEP_REFERENCE, 'sddecc')} ({default.gcn_steps} GCN "
                     f"steps per {batches} DDECN steps), seeds {seed_list(gain[0])}: SDDECC "
                     f"{mean_std([r['acc'] for r in full], 4)} against ConvAE (no MI, no GCN) "
                     f"{mean_std([r['acc'] for r in bare], 4)}; seed-paired, SDDECC {gain_text(gain)}"
                     + (" (within the spread)." if within_spread(gain) else "."))
    gap = (f"a gap on {reference}. " if gain is None  # SDDECC against ConvAE there: not run, within, below, above
           else f"a gap on {reference}, where the gap is itself within the spread of its seeds (the last line). "
           if within_spread(gain) else f"what the GCN costs on {reference}. " if gain[1] < 0
           else f"a gap on {reference}, where SDDECC scores above ConvAE (the last line). ")
    verdict = (f"\nOn {', '.join(unexplained)}, a GCN refreshed as seldom per DDECN step as on {reference} does not "
               "score under the one refreshed as often as the estimator's schedule does there, so the stale target "
               f"alone does not explain {gap}" if unexplained else "\n")
    return "\n".join([*lines, f"{verdict}The estimator keeps gcn_steps = {default.gcn_steps}; these figures test one "
                       f"explanation of the gap on {reference} and chose nothing.\n"])


def strategy1_note(runs: list[dict]) -> str:
    """The section on the two readings of Table 4's strategy 1, from the recorded runs ("" before the
    reconstruction-only row ran)."""
    literal = runs_by_dataset(runs, "convae_rec")
    if not literal:
        return ""
    lines = ["## Two readings of strategy 1 (ConvAE)\n",
             "Table 4's strategy 1 is \"只训练一个多层卷积自编码器\", only training a multi-layer convolutional "
             "autoencoder; the paper does not say how its clusters are read out. The row *ConvAE* is SDDECC with "
             "the MI terms and the GCN switched off: the Gaussian encoder with its prior KL in pretraining, then L_c "
             "with learnable μ_y. The row *ConvAE, reconstruction only + k-means* reads strategy 1 literally: the same "
             "network trained on the reconstruction alone (λ2 = 0: no prior KL, no L_c) for as many epochs as the "
             "other rows train in all, then k-means on μ(x). Same seeds; ACC, final model:\n"]
    for dataset, lit in literal.items():
        seeds = {r["seed"] for r in lit}

        def accs(row: str) -> list[float]:
            return [r["acc"] for r in seed_runs(runs, row, dataset, seeds)]

        def acc(row: str) -> str:
            same = accs(row)
            if not same:
                return "not run"
            return mean_std(same, 4) + ("" if len(same) == len(seeds) else f" ({len(same)} of these seeds)")

        paper = PAPER.get((dataset, "convae"))
        lines.append(f"- {dataset}, seeds {', '.join(str(r['seed']) for r in lit)}: reconstruction only "
                     f"{mean_std([r['acc'] for r in lit], 4)}; ConvAE {acc('convae')}; ConvAE+MI {acc('convae_mi')}; "
                     f"ConvAE+GCN {acc('convae_gcn')}; full SDDECC {acc('sddecc')}"
                     + (f" (paper: ConvAE {paper[0]:.2f}, ConvAE+MI {PAPER[(dataset, 'convae_mi')][0]:.2f}, "
                        f"ConvAE+GCN {PAPER[(dataset, 'convae_gcn')][0]:.2f})" if paper else "") + ".")
        def gain(row: str) -> float:
            """Mean ACC of ``row`` minus the reconstruction-only mean over the same seeds (seed-paired)."""
            mine = seed_runs(runs, row, dataset, seeds)
            ref = seed_runs(runs, "convae_rec", dataset, [m["seed"] for m in mine])
            return 100 * (sum(m["acc"] for m in mine) / len(mine) - sum(r["acc"] for r in ref) / len(ref))

        gains = [f"{ROW_NAMES[row]} {gain(row):+.1f}"
                 + (f" (paper {PAPER[(dataset, row)][0] - paper[0]:+.1f})" if paper and row != "convae" else "")
                 for row in ("convae", "convae_mi", "convae_gcn", "sddecc") if accs(row)]
        if gains:
            lines.append(f"  Points of ACC over the reconstruction-only ConvAE of the same seeds: {', '.join(gains)}.")
    lines.append("\nThe paper's gains of ConvAE+MI and ConvAE+GCN are measured from its strategy 1. Measured from "
                 "the literal reading, ours include what the Gaussian encoder's prior KL and L_c add to (or take from) "
                 "a plain autoencoder: the ConvAE row's gain. Which reading the paper ran is not stated; no choice "
                 "here looked at labels.\n")
    return "\n".join(lines)


# Table 4's ordering, pair by pair: ConvAE < ConvAE+MI, ConvAE < ConvAE+GCN, and both below the full model
ORDERING = (("convae", "convae_mi"), ("convae", "convae_gcn"), ("convae_mi", "sddecc"), ("convae_gcn", "sddecc"))


def seed_list(seeds: list[int]) -> str:
    """"0-9" for a run of three or more consecutive seeds, else "0, 2"."""
    if len(seeds) > 2 and seeds == list(range(seeds[0], seeds[-1] + 1)):
        return f"{seeds[0]}-{seeds[-1]}"
    return ", ".join(map(str, seeds))


def accs_by_run(runs: list[dict]) -> dict[tuple[str, str, int], float]:
    """(dataset, row, seed) -> ACC of every run: the ``acc`` that :func:`paired_gain` reads."""
    return {(r["dataset"], r["method"], r["seed"]): r["acc"] for r in runs}


def paired_gain(acc: dict, dataset: str, low: str, high: str) -> tuple[list[int], float, float | None, int] | None:
    """Row ``high`` against row ``low`` on ``dataset``, seed-paired: the seeds both ran, the mean and std
    (None for one seed) of ``high``'s ACC minus ``low``'s in points, and on how many seeds ``high`` is
    higher; None when no seed has both. ``acc``: (dataset, row, seed) -> ACC."""
    seeds = sorted(s for d, m, s in acc if d == dataset and m == high and (dataset, low, s) in acc)
    if not seeds:
        return None
    mean, std = mean_and_std([100 * (acc[(dataset, high, s)] - acc[(dataset, low, s)]) for s in seeds])
    return seeds, mean, std, sum(acc[(dataset, high, s)] > acc[(dataset, low, s)] for s in seeds)


def gain_text(gain: tuple[list[int], float, float | None, int]) -> str:
    """"+a ± b points, higher on h of n seeds" from :func:`paired_gain`'s answer."""
    seeds, mean, std, higher = gain
    return (f"{mean:+.1f}" + ("" if std is None else f" ± {std:.1f}") + f" points, higher on {higher} of {len(seeds)} "
            f"seed{'s' if len(seeds) > 1 else ''}")


def within_spread(gain: tuple[list[int], float, float | None, int]) -> bool:
    """Whether :func:`paired_gain`'s mean gain is no larger, either way, than its std (False for one seed)."""
    return gain[2] is not None and abs(gain[1]) <= gain[2]


def backbone_note(runs: list[dict]) -> str:
    """The section on DeepCluster's convolutional backbone against the default MLP ("" before it ran)."""
    conv = runs_by_dataset(runs, "deepcluster_conv")
    if not conv:
        return ""
    acc = accs_by_run(runs)
    lines = ["## DeepCluster's backbone: the MLP or convolutional\n",
             "Table 3's DeepCluster trains, from random weights, the encoder of the d-500-500-2000-10 MLP that DEC and "
             "IDEC use. DeepCluster itself trains convnets, and the paper does not say which network its DeepCluster "
             "figures come from. The row *DeepCluster, convolutional backbone* (`backbone=\"conv\"`) trains the "
             "DDECN's convolutions (SDDECC's Table 2 channels) with a linear layer to the same d = 10 in its place, "
             "everything else unchanged. ACC of the final model, the same seeds:\n"]
    for dataset in conv:
        gain = paired_gain(acc, dataset, "deepcluster", "deepcluster_conv")
        if gain is None:
            continue
        seeds = gain[0]
        pair = [seed_runs(runs, row, dataset, seeds) for row in ("deepcluster_conv", "deepcluster")]
        accs, times = ([mean_std([r[key] for r in rows], digits) for rows in pair] for key, digits in
                       (("acc", 4), ("time", 0)))
        lines.append(f"- {dataset}, seeds {seed_list(seeds)}: {accs[0]} convolutional against {accs[1]} with the MLP "
                     f"(paper {PAPER[(dataset, 'deepcluster')][0]:.2f}); the convolutional backbone "
                     f"{gain_text(gain)}; {times[0]} s against {times[1]} s per run.")
    return "\n".join([*lines, "\nTable 3 keeps the MLP: the default was set before these runs, and it also serves "
                       "tabular input. These figures chose nothing.\n"])


# SDDECC's rows on other schedules than the tables', set beside its row of the tables in ``standing_note``
OTHER_SDDECC = ("sddecc_short", "sddecc_steps", "sddecc_steps_gcn", *STAGE_STEP_ROWS)


def standing_note(runs: list[dict]) -> str:
    """The section on where SDDECC stands against the paper: per dataset (in ``DATASETS`` order), its row of the
    tables and each of its rows on another schedule that ran (``OTHER_SDDECC``), mean ± std of ACC over the seeds,
    and the paper's ACC; "" before SDDECC ran."""
    lines = []
    for dataset in DATASETS:
        shown = []
        for row in ("sddecc", *OTHER_SDDECC):
            mine = runs_by_dataset(runs, row).get(dataset)
            if mine:
                where = devices_of(mine)
                shown.append(f"{mean_std([r['acc'] for r in mine], 4)} {epochs_name(dataset, row)}"
                             + (", " + ROW_NAMES[row].split(", ", 2)[2] if row in GCN_RATIO_ROWS else "")
                             + f" ({len(mine)} seed{'s' * (len(mine) > 1)}, {where})")
        if shown:
            paper = PAPER[(dataset, "sddecc")][0] / 100
            lines.append(f"- {dataset}: paper {paper:.4f}; ours " + "; ".join(shown) + ".")
    if not lines:
        return ""
    return "\n".join(["## SDDECC against the paper\n",
                      "SDDECC's ACC, final models, mean ± std over seeds: the tables' row first, then the same model "
                      "on other schedules where that ran (the sections *Schedule* and *Schedule in optimiser steps* "
                      "below; no schedule was chosen by its ACC):\n", *lines, ""])


def ordering_checks(runs: list[dict], rows: dict[str, str] | None = None) -> list[str]:
    """Table 4's ordering checked on each dataset, each pair seed-paired: the points of ACC the higher row gains
    over the lower on the seeds both ran (mean ± std), and on how many of them it is higher; no line for a pair
    before both rows ran. ``rows``: the row that stands for each row of ``ORDERING`` (default: itself)."""
    rows = rows or {}
    acc = accs_by_run(runs)
    lines = []
    for dataset in dict.fromkeys(r["dataset"] for r in runs):
        checks = []
        for low, high in ORDERING:
            gain = paired_gain(acc, dataset, rows.get(low, low), rows.get(high, high))
            if gain is None:
                continue
            seeds, mean = gain[:2]
            verdict = "holds" if mean > 0 else "does not hold"
            if within_spread(gain):
                verdict += " (within the spread)"
            paper = PAPER[(dataset, high)][0] - PAPER[(dataset, low)][0]
            checks.append(f"  - {ROW_NAMES[low]} < {ROW_NAMES[high]}: {verdict}, {gain_text(gain)} "
                          f"({seed_list(seeds)}); paper {paper:+.1f}.")
        if checks:
            lines += [f"- {dataset}:", *checks]
    return lines


def device_moves(runs: list[dict], rows) -> list[str]:
    """A paragraph (none where no such rerun) on how far the runs of ``rows`` moved when the same seed was made again
    on another device (``--rerun``): what a seed-paired gain must exceed to be settled by its seeds."""
    moved = [r for r in runs if r["method"] in rows and r.get("replaces")
             and device_name(r) != device_name(r["replaces"])]
    if not moved:
        return []
    changes = [100 * (r["acc"] - r["replaces"]["acc"]) for r in moved]
    devices = " and on ".join(sorted({device_name(rec) for r in moved for rec in (r["replaces"], r)}))
    return [f"\nThe same seed of the same row made on {devices} (*Runs made again* below; {len(moved)} runs) "
            f"moved by {min(changes):+.1f} to {max(changes):+.1f} points of ACC, "
            f"{mean_std([abs(c) for c in changes], 1)} in size. Every random draw comes from one CPU "
            "generator, the same on either device, so where the package code is the same (the paragraph on "
            "GPU rows under the tables says whether it is) a run moves that far by floating-point arithmetic "
            "alone (other kernels, summation orders, torch versions, thread counts); a pair whose gain is "
            "within that distance is not settled by these seeds."]


RESTARTS = (3, 5)  # the restart counts of the training-loss section


def final_loss(run: dict) -> float | None:
    """The mean training loss of a run's last joint epoch (``loss_terms``; label-free), None where it has none or
    it is not finite (a run that diverged is not ranked)."""
    joint = run.get("loss_terms", {}).get("joint")
    loss = None if joint is None else float(joint["loss"])
    return loss if loss is not None and math.isfinite(loss) else None


def lowest_loss_acc(pairs: list[tuple[float, float]], restarts: int) -> float:
    """The expected ACC of keeping, of ``restarts`` runs drawn without replacement from ``pairs`` ((loss, ACC),
    one per seed), the one with the lowest loss: the mean over every subset of that size. With the runs sorted by
    loss, the i-th lowest (i = 0, 1, ...) is a subset's lowest with probability C(n-1-i, R-1) / C(n, R). Runs of
    equal loss share their places: each counts at their mean ACC (a tie is broken at random, never by ACC)."""
    n = len(pairs)
    if not 1 <= restarts <= n:
        raise ValueError(f"restarts must be between 1 and the {n} runs, got {restarts}")
    ranked = sorted(pairs, key=lambda pair: pair[0])
    tied: dict[float, list[float]] = {}
    for loss, acc in ranked:
        tied.setdefault(loss, []).append(acc)
    return sum(math.comb(n - 1 - i, restarts - 1) * sum(tied[loss]) / len(tied[loss])
               for i, (loss, _) in enumerate(ranked)) / math.comb(n, restarts)


def restarts_note(runs: list[dict], min_seeds: int = max(RESTARTS)) -> str:
    """The section on whether a lower final training loss goes with a higher ACC across a Table 4 row's seeds, and
    what keeping the lowest-loss run of R restarts would score ("" before a row has ``min_seeds`` runs with a
    final loss)."""
    from scipy.stats import spearmanr

    lines, tested, left_out = [], [], []
    by_row = {row: runs_by_dataset(runs, row) for row in TABLE4}
    for dataset in dict.fromkeys(r["dataset"] for r in runs):
        for row in TABLE4:
            everyone = by_row[row].get(dataset, [])
            mine = [(loss, r) for r in everyone if (loss := final_loss(r)) is not None]
            if len(mine) < min_seeds:
                if everyone:
                    left_out.append(f"{dataset} {ROW_NAMES[row]} ({len(mine)} of {len(everyone)})")
                continue
            pairs = [(loss, r["acc"]) for loss, r in mine]
            losses, accs = zip(*pairs)
            rank = "—"  # no ρ where every loss or every ACC is the same
            if len(set(losses)) > 1 and len(set(accs)) > 1:
                rho, p = spearmanr(losses, accs)
                rank = f"{rho:+.2f} ({'< 0.001' if p < 0.001 else f'{p:.2g}'})"
                tested.append((f"{dataset} {ROW_NAMES[row]}", p))
            lines.append(f"| {dataset} | {ROW_NAMES[row]} | {seed_list([r['seed'] for _, r in mine])} | "
                         f"{mean_std(list(accs), 4)} | {rank} | "
                         + " | ".join(f"{lowest_loss_acc(pairs, k):.4f}" for k in RESTARTS) + " |")
    if not lines:
        return ""
    text = ["## The final training loss against ACC, seed by seed\n",
            "Each run of Table 4's rows records the mean loss of its last joint epoch (`loss_terms`: the row's "
            "objective as the optimiser saw it, on sampled codes and, with MI, shuffled negatives; no label). Do the "
            "seeds that end lower score higher? ρ is Spearman's rank correlation of that loss with ACC over the row's "
            "seeds (negative: lower loss, higher ACC; its two-sided p in brackets). *Lowest loss of R* is what keeping "
            "the lowest-loss run of R restarts would score: the mean ACC over every R of the row's seeds. That choice "
            "uses no label, but costs R runs and is not the paper's protocol (one run per seed), so the tables above "
            "do not make it.\n",
            "| dataset | row | seeds | ACC | ρ (p) | " + " | ".join(f"lowest loss of {k}" for k in RESTARTS) + " |",
            "|---|---|---|---|---|" + "---|" * len(RESTARTS),
            *lines, ""]
    if tested:
        level = 0.05 / len(tested)
        standing = [name for name, p in tested if p < level]
        text.append(f"- A ρ's p tells a relation from none: at 10 seeds p < 0.05 takes |ρ| above about 0.63. Over "
                    f"{len(tested)} rows, were there no relation in any, some row would still reach p < 0.05 with "
                    f"chance up to {1 - 0.95 ** len(tested):.0%}; at the Bonferroni level 0.05 / {len(tested)} = "
                    f"{level:.2g} " + (f"the relation stands in {', '.join(standing)}." if standing
                                       else "it stands in no row."))
    text.append(f"- Lowest loss of R out of n seeds puts R/n of its weight on the one lowest-loss seed (half, for "
                f"{max(RESTARTS)} of {2 * max(RESTARTS)}), so it is near that seed's ACC; neither column has a spread.")
    if left_out:
        text.append(f"- Not ranked, fewer than {min_seeds} seeds with a final loss (the runs' records before the loss "
                    "terms were recorded, and strategy 1, which has no joint stage): " + "; ".join(left_out) + ".")
    text.append("- Runs on a GPU or on two threads (*Runs made again*, the thread footnote) are ranked with the "
                "others: the loss they reach is the same objective's.\n")
    return "\n".join(text)


def ordering_note(runs: list[dict]) -> str:
    """The section that checks Table 4's ordering on each dataset (:func:`ordering_checks`, with
    :func:`device_moves`; "" before any dataset has a pair)."""
    lines = ordering_checks(runs)
    if not lines:
        return ""
    return "\n".join(["## Table 4's ordering, seed by seed\n",
                      "The paper's ablations order ConvAE < ConvAE+MI, ConvAE+GCN < ConvAE+MI+GCN. Each pair below is "
                      "seed-paired: the higher row's ACC minus the lower row's on the seeds both ran, in points of "
                      "ACC (mean ± std over those seeds), final models:\n", *lines,
                      "\nWhere a pair does not hold, or holds within its spread, the sections below measure why: how "
                      "little the MI terms weigh in the loss (*Why the MI terms add little*), how the GCN, fitted to "
                      "the model's own posterior, mostly repeats it (*Why the GCN adds little*), and what each row "
                      "gains over a plain autoencoder with k-means of the same seeds "
                      "(*Two readings of strategy 1*).", *device_moves(runs, TABLE4), ""])


def steps_ordering_note(runs: list[dict]) -> str:
    """Table 4's ordering checked as :func:`ordering_note` does, on the rows trained for as many optimiser steps
    as the estimator's schedule makes on ``STEP_REFERENCE`` (``STEP_ROWS``; "" before any pair of them ran)."""
    lines = ordering_checks(runs, {base: row for row, base in STEP_ROWS.items()})
    if not lines:
        return ""
    return "\n".join([f"## Table 4's ordering in {STEP_REFERENCE.upper()}'s optimiser steps, seed by seed\n",
                      "The same pairs as *Table 4's ordering* above, each row trained for as many optimiser steps as "
                      f"the estimator's schedule makes on {STEP_REFERENCE.upper()} (the rows *..., MNIST's steps*), "
                      "seed-paired; the paper's gains are its Table 4's:\n", *lines, ""])


def short_ordering_note(runs: list[dict]) -> str:
    """Table 4's ordering checked as :func:`ordering_note` does, on the rows trained on the shorter schedule the
    tables used on the 70,000-image datasets until 2026-12-04 (``SHORT_ROWS``); "" before any pair of them ran."""
    lines = ordering_checks(runs, {base: row for row, base in SHORT_ROWS.items()})
    if not lines:
        return ""
    return "\n".join([f"## Table 4's ordering on the shorter {_SHORT} epochs, seed by seed\n",
                      f"The same pairs as *Table 4's ordering* above, each row trained for {_SHORT} epochs (the rows "
                      f"*..., {_SHORT} epochs*, the tables' schedule on MNIST and Fashion-MNIST until 2026-12-04), "
                      "seed-paired; the paper's gains are its Table 4's:\n", *lines, ""])


def objective_line(mine: list[dict], default: list[dict], names: tuple[str, str], indent: str = "") -> list[str]:
    """A line (none where no seed has both) comparing, label-free, the value of Eq. 19 without the MI terms that
    the runs ``mine`` and ``default`` reached at their final models (``code.objective``) on the seeds both ran.
    ``names``: what to call the two."""
    theirs = {r["seed"]: r["code"]["objective"] for r in default if "objective" in r.get("code", {})}
    both = [(r["seed"], r["code"]["objective"], theirs[r["seed"]]) for r in mine
            if r["seed"] in theirs and "objective" in r.get("code", {})]
    if not both:
        return []
    return [f"{indent}Eq. 19 without the MI terms at the final model, decoded from μ(x) (`code.objective`, lower is "
            f"better, no labels), seeds {', '.join(str(seed) for seed, _, _ in both)}: "
            f"{mean_std([own for _, own, _ in both], 4)} {names[0]} against "
            f"{mean_std([other for _, _, other in both], 4)} {names[1]}; lower {names[0]} on "
            f"{sum(own < other for _, own, other in both)} of {len(both)} seeds."]


def joint_note(runs: list[dict]) -> str:
    """The section on end-to-end joint training against the default's alternating steps, from the
    recorded runs ("" before the end-to-end row ran)."""
    e2e = runs_by_dataset(runs, "sddecc_e2e")
    if not e2e:
        return ""
    lines = ["## Joint training: alternating or end to end\n",
             "The default trains the joint stage in alternating blocks: mini-batch steps of the DDECN and μ_y with the "
             "GCN's Y held fixed, then full-batch steps of the GCN with the DDECN fixed. That drops one term of Eq. "
             "19's gradient, L_c's path through Y into the encoder's transferred features. The row *SDDECC, joint "
             "training end to end* (`joint=\"end_to_end\"`) keeps it: every mini-batch step trains everything, the "
             "batch's Y taken from a full-graph GCN forward on the batch's fresh features and the other nodes' "
             "features of the epoch's start. Same seeds, same schedule; ACC and wall time per run:\n"]
    for dataset, mine in e2e.items():
        seeds = [r["seed"] for r in mine]
        default = seed_runs(runs, "sddecc", dataset, seeds)
        acc, time = ({name: mean_std([r[key] for r in rec], digits) for name, rec in (("e2e", mine), ("alt", default))}
                     for key, digits in (("acc", 4), ("time", 0)))
        part = "" if len(default) == len(mine) else f" ({len(default)} of these seeds)"
        lines.append(f"- {dataset}, seeds {', '.join(map(str, seeds))}: ACC {acc['e2e']} end to end against "
                     f"{acc['alt']} alternating{part}; {time['e2e']} s against {time['alt']} s per run{part}."
                     if default else f"- {dataset}, seeds {', '.join(map(str, seeds))}: ACC {acc['e2e']} end to end, "
                     f"{time['e2e']} s per run; the default has not run these seeds.")
        lines += objective_line(mine, default, ("end to end", "alternating"), "  ")
    lines.append("\nThe default stays alternating; these ACC figures only show what the dropped term is worth and "
                 "chose nothing.\n")
    return "\n".join(lines)


def device_label(device) -> str:
    """The device an estimator's ``device`` setting resolves to, a CUDA one with its name (``"cpu"``,
    ``"cuda (NVIDIA H200)"``): what a record keeps as its ``device``."""
    import torch

    from graphclust.base import check_device

    resolved = check_device(device)
    return f"cuda ({torch.cuda.get_device_name(resolved)})" if resolved.type == "cuda" else resolved.type


def record_device(record: dict) -> str:
    """The device a record (or a rerun's ``replaces``) was made on: its ``device`` (:func:`device_label`), else its
    settings' (older records; those without ``full_config`` were all made on the CPU)."""
    return str(record.get("device") or (record.get("full_config") or {}).get("device", "cpu"))


def run_device(record: dict) -> str:
    """:func:`record_device` with torch's version where it is not the CPU (``"cuda (NVIDIA H200), torch 2.11.0"``)."""
    device = record_device(record)
    torch_version = (record.get("versions") or {}).get("torch")
    return device if device == "cpu" or not torch_version else f"{device}, torch {torch_version}"


def device_name(record: dict) -> str:
    """What to call a record's device in the text: ``"CPU"``, or the GPU's name (``"NVIDIA H200"``) where recorded,
    else its device (``"cuda"``)."""
    device = record_device(record)
    return "CPU" if device == "cpu" else device.partition(" (")[2].removesuffix(")") or device


def devices_of(records: list[dict]) -> str:
    """The devices ``records`` were made on, as the text names them (:func:`device_name`), in order, once each."""
    return ", ".join(dict.fromkeys(map(device_name, records)))


def made_under(record: dict) -> str:
    """"code 1c49b15a0b2d, 1 thread, 83 s": what a record says of how it was made (older records
    lack the code version or the thread count), with the device where it is not the CPU."""
    threads, device = record.get("torch_threads"), run_device(record)
    return (f"code {record.get('code_version') or 'unrecorded'}, " + ("" if device == "cpu" else f"{device}, ")
            + ("" if threads is None else f"{threads} thread{'s' if threads > 1 else ''}, ")
            + f"{record['time']:.0f} s")


def reruns_note(runs: list[dict]) -> str:
    """The section on runs made again with ``--rerun`` ("" when there are none): per row, how many
    reruns gave exactly the scores of the record they replace, their times, and for those that did
    not, the mean ACC before and after; below it one line per rerun that changed (its ACC, code and
    time against the record's) or that resumed from a checkpoint of other code."""
    again = sorted((r for r in runs if r.get("replaces")), key=lambda r: (r["dataset"], r["method"], r["seed"]))
    if not again:
        return ""

    def exact(r: dict) -> bool:
        return all(r[k] == r["replaces"].get(k) for k in ("acc", "nmi", "ari", "f1"))

    def spans(r: dict) -> list[str]:
        return list(dict.fromkeys((r.get("resumed") or {}).get("code_versions") or []))

    groups: dict[tuple[str, str], list[dict]] = {}
    for r in again:
        groups.setdefault((r["dataset"], r["method"]), []).append(r)
    lines = ["## Runs made again (`--rerun`)\n",
             f"{sum(map(exact, again))} of {len(again)} reruns gave exactly the scores of the record they replace "
             "(the tables hold the rerun). Per row, with the time per run recorded and again:\n"]
    for (dataset, row), rows in groups.items():
        same = sum(map(exact, rows))
        times = (mean_std([r["replaces"]["time"] for r in rows], 0), mean_std([r["time"] for r in rows], 0))
        line = (f"- {dataset} / {ROW_NAMES[row]}, seeds {seed_list([r['seed'] for r in rows])}: {same} of {len(rows)} "
                f"exactly as recorded; {times[0]} s recorded, {times[1]} s again")
        changes = [100 * (r["acc"] - r["replaces"]["acc"]) for r in rows if r["acc"] != r["replaces"]["acc"]]
        if changes:
            before = mean_std([r["replaces"]["acc"] for r in rows], 4)
            after = mean_std([r["acc"] for r in rows], 4)
            line += (f"; ACC moved on {len(changes)}, by {min(changes):+.1f} to {max(changes):+.1f} points, "
                     f"mean ACC {before} recorded, {after} again")
        lines.append(line + ".")
        for r in rows:
            codes = spans(r)
            if exact(r) and len(codes) < 2:
                continue
            old = r["replaces"]
            lines.append(f"  - seed {r['seed']}: ACC {old['acc']:.4f} recorded ({made_under(old)}), {r['acc']:.4f} "
                         f"again ({made_under(r)})"
                         + ("" if r["acc"] == old["acc"] else
                            f", a change of {100 * (r['acc'] - old['acc']):+.2f} points")
                         + ("" if exact(r) or r["acc"] != old["acc"] else ", other NMI / ARI / F1")
                         + (f"; resumed from a checkpoint of other code ({' -> '.join(codes)})"
                            if len(codes) > 1 else "") + ".")
    if any(r["replaces"].get("code_version") is None and not exact(r) for r in again):
        lines.append(UNRECORDED_RERUNS)
    return "\n".join(lines) + "\n"


UNRECORDED_RERUNS = """
The USPS records of DeepCluster and ConvAE+MI marked "code unrecorded" were made on 2026-12-01 (commit
87598fe) without their thread count. Run again on 2026-12-03 at one thread, the code of 87598fe itself gives
the reruns' scores, not the records': DeepCluster seed 0 0.6439 at one thread, 0.6671 at two (recorded
0.5599); ConvAE+MI seed 0 0.7379 at one thread, 0.7347 at two (recorded 0.7354). So the changes do not come
from code committed since; those records were made under a setting they did not keep (another thread count, or
code not yet committed), and records now keep both (`code_version`, `torch_threads`). A thread count changes
the order of floating-point sums, hence the last bits of every step. ConvAE+MI moves by a fraction of a point.
DeepCluster moves by up to 14 points: it feeds each epoch's k-means labels back as its targets, so a rounding
difference that moves one image across a k-means boundary changes every later epoch."""


def gpu_rows_note(runs: list[dict]) -> str:
    """A paragraph naming, per dataset and GPU, the rows with runs made on a GPU (their time per run does not compare
    with the CPU rows'), with how the H200 runs were made; "" when every run was on the CPU. A row with runs on
    other devices too says which seeds ran where (its s / run and peak RSS are then given per device)."""
    seeds: dict[tuple[str, str], dict[str, list[int]]] = {}  # (dataset, row) -> device -> seeds
    for run in runs:
        seeds.setdefault((run["dataset"], ROW_NAMES[run["method"]]), {}).setdefault(
            device_name(run), []).append(run["seed"])
    on_gpu: dict[tuple[str, str], list[str]] = {}
    for (dataset, row), where in seeds.items():
        for name, mine in where.items():
            if name == "CPU":
                continue
            others = "; ".join(f"{seed_words(s)} on {'the CPU' if n == 'CPU' else n}"
                               for n, s in where.items() if n != name)
            on_gpu.setdefault((dataset, name), []).append(
                f"*{row}*" + (f" ({seed_words(mine)}; {others})" if others else ""))
    if not on_gpu:
        return ""
    batches = {r.get("code_version") for r in runs if device_name(r) == "NVIDIA H200"}
    some = ", but for the runs listed below as on more than one thread" if any(map(on_many_threads, runs)) else ""
    return (f"Rows run on a GPU, whose s / run does not compare with the CPU rows' (one core per run{some}): "
            + "; ".join(f"{d} on {name}: {', '.join(rows)}" for (d, name), rows in on_gpu.items())
            + "." + "".join(text for code, text in H200_RUNS.items() if code in batches) + "\n")


def seed_words(seeds: list[int]) -> str:
    """"seed 3" or "seeds 0-2" (:func:`seed_list`), sorted."""
    return ("seed " if len(seeds) == 1 else "seeds ") + seed_list(sorted(seeds))


def on_many_threads(run: dict) -> bool:
    """Whether a run was made on the CPU on more than one thread (``torch_threads``; older records: one)."""
    return device_name(run) == "CPU" and (run.get("torch_threads") or 1) > 1


def threads_note(runs: list[dict]) -> str:
    """A line naming the CPU runs recorded on more than one thread (``torch_threads``), whose s / run is not one
    core's, per dataset and row with their seeds and thread counts; "" when there are none."""
    many: dict[tuple[str, str], list[str]] = {}
    for run in runs:
        if on_many_threads(run):
            many.setdefault((run["dataset"], ROW_NAMES[run["method"]]), []).append(
                f"seed {run['seed']} ({run['torch_threads']} threads)")
    if not many:
        return ""
    return ("CPU runs on more than one thread, whose s / run is not one core's: "
            + "; ".join(f"{d} {row}, {', '.join(seeds)}" for (d, row), seeds in many.items()) + ".\n")


GRAPH_SOURCES = {"built": "built in the run", "cache": "read from a file (`--graph-cache`, built once beforehand)",
                 "input": "given with the data"}


def graph_time_note(runs: list[dict]) -> str:
    """A line on what the s / run of the runs with a graph includes: where each run's kNN graph came from and what it
    took (the records' ``graph_build``, kept since 2026-12-04), and how many such runs are older and do not say; ""
    when no record says."""
    told = [r for r in runs if r.get("graph_build")]
    if not told:
        return ""
    parts = []
    for source, text in GRAPH_SOURCES.items():
        seconds = [r["graph_build"]["seconds"] for r in told if r["graph_build"]["source"] == source]
        if seconds:
            parts.append(f"{text} in {len(seconds)} (the graph took {mean_std(seconds, 1)} s)")
    untold = sum(1 for r in runs if not r.get("graph_build") and r.get("full_config", {}).get("use_gcn"))
    return ("The s / run of a run on a graph includes getting its kNN graph: " + "; ".join(parts)
            + (f". {untold} older runs with a GCN do not say (an uncached MNIST graph took 45-130 s on the CPU)"
               if untold else "") + ".\n")


# code version of runs made on an H200 -> how they were made (the runs of each day's session share one version)
H200_RUNS = {
    "f372a6d7d0e1": " The runs on the NVIDIA H200 under code f372a6d7d0e1 (MNIST) were made on 2026-12-04 in two "
                    "batches of six at a time on the one GPU, from a script that starts the CUDA MPS daemon first (the "
                    "first batch's log shows it running), two CPU threads each, torch 2.11.0+cu130; each on the same "
                    "kNN graph of the raw images, built once on the CPU by the same exact faiss search and read from a "
                    "file by the six processes. The package (graphclust/) is the same at the commits of the CPU "
                    "records that five of them replace (9fc775dd52f7, e8816e343a3e, e1aaa15ce078) as at theirs, so "
                    "those five differ from their records in arithmetic only.",
    "0f3b6dd5f08f": " The runs under code 0f3b6dd5f08f (Fashion-MNIST) were made later that day in two batches of ten "
                    "at a time on the one GPU, with the CUDA MPS daemon started first, one CPU thread each, torch "
                    "2.11.0+cu130; the first: ConvAE, ConvAE+MI and ConvAE+GCN seeds 0-2 and SDDECC seed 2; the "
                    "second: the four rows' seeds 3-4 and SDDECC seeds 0-1 again (`--rerun`). Each read the same kNN "
                    "graph from a file (`--graph-cache`, built beforehand on the CPU by exact faiss search; "
                    "`graph_build` in the records). graphclust/ differs from the code of the two CPU records they "
                    "replace (8008d92d8ebe) only in what records keep (`graph_build_`), so those two differ from "
                    "their records in arithmetic only.",
}


def settings_changed(runs: list[dict]) -> list[str]:
    """One line per (dataset, row) of ``OWN_ROWS`` whose recorded runs were made with other settings
    than the row's estimator has now (a default changed since): the tables would average them with
    today's. Compared with :func:`graphclust.bench.runner.config_changes`, as the grid does."""
    changed: dict[tuple, tuple[dict, list]] = {}  # (dataset, row) -> (changed settings, seeds)
    for run in runs:
        if run["method"] not in OWN_ROWS or "full_config" not in run:
            continue
        method, params = row_params(run["dataset"], run["method"])
        record = {"status": "ok", "config": run["full_config"], "n_clusters": run["full_config"].get("n_clusters")}
        diff = config_changes(record, RunSpec(run["dataset"], method, run["seed"], params))
        if diff:
            settings, seeds = changed.setdefault((run["dataset"], run["method"]), ({}, []))
            settings.update(diff)
            seeds.append(run["seed"])
    lines = []
    for (dataset, row), (diff, seeds) in changed.items():
        what = "; ".join(f"{k}: {old!r} recorded, {new!r} now" for k, (old, new) in diff.items())
        lines.append(f"- {dataset} / {ROW_NAMES[row]}, seeds {', '.join(map(str, seeds))}: made with other "
                     f"settings than today's ({what}); rerun them (delete their records) before comparing.")
    return lines


def grid_runs(records: list[dict], dataset: str, row: str) -> list[dict]:
    """The grid's own finished runs of a baseline row among ``records`` (``graphclust bench``,
    ``reproduction.jsonl``: the same protocol, final model, one autoencoder per seed shared by the AE
    methods), flattened like a script's records; the latest record per seed, none taken over from a
    script."""
    latest = {}
    for record in records:
        if (record.get("dataset"), record.get("method"), record.get("status")) == (dataset, row, "ok") \
                and not record.get("imported_from"):
            latest[record["seed"]] = record
    return [{"dataset": dataset, "method": row, "seed": seed, **r["metrics"], "time": r["time_s"],
             "peak_rss_mib": r.get("peak_rss_mib") or 0, "from_grid": True} for seed, r in sorted(latest.items())]


def unrun_note(runs: list[dict], datasets) -> str:
    """A line naming, per dataset where this script's rows of Tables 3 and 4 have run, those that have not run yet
    on the tables' schedule (a table leaves such a row out); "" when none is missing."""
    own = [row for row in TABLE_ROWS if row in OWN_ROWS]
    ran = {(r["dataset"], r["method"]) for r in runs}
    missing = {d: rows for d in datasets if any((d, row) in ran for row in own)
               if (rows := [ROW_NAMES[row] for row in own if (d, row) not in ran])}
    if not missing:
        return ""
    return ("Not yet run on the tables' schedule, so not in the tables: "
            + "; ".join(f"{d}: {', '.join(rows)}" for d, rows in missing.items()) + ".\n")


def few_seeds_note(runs: list[dict], datasets) -> str:
    """A line naming the rows of Tables 3 and 4 that have run on fewer seeds than this script's default for their
    dataset (``DEFAULT_SEEDS``: the issue's 10 on USPS, its minimum of 3 on MNIST and Fashion-MNIST), with how many
    they have; "" when every row that ran has them all."""
    seeds: dict[tuple[str, str], set] = {}
    for r in runs:
        if r["method"] in TABLE_ROWS:
            seeds.setdefault((r["dataset"], r["method"]), set()).add(r["seed"])
    short = {d: rows for d in datasets
             if (rows := [f"{ROW_NAMES[row]} ({len(seeds[(d, row)])})" for row in TABLE_ROWS
                          if (d, row) in seeds and len(seeds[(d, row)]) < DEFAULT_SEEDS[d]])}
    if not short:
        return ""
    wanted = ", ".join(f"{d} {n}" for d, n in DEFAULT_SEEDS.items())
    return (f"Fewer seeds than this script's default ({wanted}), seeds so far in brackets: "
            + "; ".join(f"{d}: {', '.join(rows)}" for d, rows in short.items())
            + ". Run without `--seeds`, the script runs the missing ones.\n")


def write_tables(datasets) -> str:
    """``sddecc.md``: Table 3 and Table 4, rows gathered from every source file (a baseline row that
    ``reproduce_baselines.py`` has not run on a dataset from the grid's runs, said under the tables)."""
    runs, grid = [], None  # the grid's records, read once when a baseline row needs them
    for dataset in datasets:
        for row, path in sources(dataset).items():
            mine = [r for r in read_runs(path) if r["dataset"] == dataset and r["method"] == row]
            if not mine and row in BASELINES:
                grid = read_records(RESULTS / "reproduction.jsonl") if grid is None else grid
                mine = grid_runs(grid, dataset, row)
            runs += mine
    parts = ["# SDDECC (Fu et al. 2021): Tables 3 and 4 reproduced\n",
             "Final model of every run, mean ± std over seeds; the paper gives ACC / NMI (10-run means). "
             "Produced by `benchmarks/reproduce_sddecc.py`; per-run records in `sddecc.jsonl`, "
             "`baselines_<dataset>.jsonl` (K-means, AE+K-means, DEC, IDEC) and `graph_methods.jsonl` (SDCN).\n"]
    shorter = [f"{d}: {', '.join(f'{k} = {v}' for k, v in SDDECC_EPOCHS[d].items())}" for d in datasets
               if d in SDDECC_EPOCHS]
    model = make_method("sddecc")
    defaults = f"pretrain_epochs = {model.pretrain_epochs}, epochs = {model.epochs}"
    parts.append("SDDECC and its ablations run with the estimator's defaults (" + defaults + "; "
                 "`graphclust.models.SDDECC` says how it sets what the paper leaves open)"
                 + (", except a shorter schedule on " + "; ".join(shorter) if shorter else "")
                 + f". On MNIST and Fashion-MNIST the tables trained for {_SHORT} epochs until 2026-12-04, to fit "
                 f"the CPU's time: those runs are the rows *..., {_SHORT} epochs* (*Schedule* below). Fewer seeds "
                 "than the paper's 10 where the seeds column says so: the measured cost per run is in the s / run "
                 "column.\n")
    tables = [("Table 3: methods", TABLE3, datasets), ("Table 4: ablations of SDDECC", TABLE4, datasets)]
    for title, rows in VARIANTS:
        ran_on = [d for d in datasets if any(r["dataset"] == d and r["method"] == rows[-1] for r in runs)]
        if ran_on:
            tables.append((title, rows, ran_on))
    for title, rows, shown in tables:
        order = {(d, r): i for i, (d, r) in enumerate((d, r) for d in shown for r in rows)}
        mine = sorted((run for run in runs if (run["dataset"], run["method"]) in order),
                      key=lambda run: (order[(run["dataset"], run["method"])], run["seed"]))
        mine = [dict(run, method=ROW_NAMES[run["method"]]) for run in mine]
        paper = {(d, ROW_NAMES[r]): v for (d, r), v in PAPER.items()}
        parts.append(f"## {title}\n\n" + summary_table(mine, paper, device_of=device_name) + "\n")
    from_grid = {}
    for run in runs:
        if run.get("from_grid"):
            from_grid.setdefault(run["dataset"], []).append(ROW_NAMES[run["method"]])
    if from_grid:
        parts.append("Rows from the grid (`graphclust bench`, `reproduction.jsonl`; the same protocol, its own "
                     "seeds' shared autoencoder, so not the same runs as `reproduce_baselines.py` would make): "
                     + "; ".join(f"{d}: {', '.join(dict.fromkeys(rows))}" for d, rows in from_grid.items()) + ".\n")
    for note in (seeding_note(datasets), unrun_note(runs, datasets), few_seeds_note(runs, datasets),
                 gpu_rows_note(runs), threads_note(runs), graph_time_note(runs)):
        if note:
            parts.append(note)
    changed = settings_changed(runs)
    if changed:
        parts.append("## Runs made under other settings\n\n" + "\n".join(changed) + "\n")
        print("warning: some recorded runs were made with other settings than today's:\n" + "\n".join(changed),
              file=sys.stderr, flush=True)
    for note in (standing_note(runs), ordering_note(runs), restarts_note(runs), mi_note(runs), strategy1_note(runs),
                 readings_note(runs), joint_note(runs), weights_note(runs), latent_note(runs), pooling_note(runs),
                 mse_note(runs), scratch_note(runs), first_map_note(runs), schedule_note(runs), steps_note(runs),
                 steps_ordering_note(runs), short_ordering_note(runs), stage_steps_note(runs), gcn_ratio_note(runs),
                 backbone_note(runs), reruns_note(runs)):
        if note:  # "" where nothing has run for it yet
            parts.append(note)
    from sddecc_diagnostics import gcn_note  # these import this module
    from sddecc_lambda import lambda_note

    for note in (lambda_note(), gcn_note()):
        if note:
            parts.append(note)
    text = "\n".join(parts)
    (RESULTS / "sddecc.md").write_text(text)
    return text


def worker_jobs(todo: dict[tuple[str, int], list[str]]) -> list[tuple[str, int, list[str]]]:
    """The runs of ``todo`` ((dataset, seed) -> pending rows) as jobs of one process each, seed by seed as the
    sequential path runs them: (dataset, seed, rows), one row per job except the baselines of a seed, which share
    one job (they share the seed's pretrained autoencoder)."""
    jobs = []
    for (dataset, seed), pending in todo.items():
        baselines = [row for row in pending if row in BASELINES]
        if baselines:
            jobs.append((dataset, seed, baselines))
        jobs += [(dataset, seed, [row]) for row in pending if row not in BASELINES]
    return jobs


def worker_command(args, dataset: str, seed: int, rows: list[str]) -> list[str]:
    """The command line of the process that runs one of :func:`worker_jobs`: this script on that dataset, seed and
    rows, with the parent's device, threads, data root, --quiet and --rerun (--graph-cache reaches it through
    the environment), and --worker: the parent writes the tables."""
    command = [sys.executable, str(Path(__file__).resolve()), "--datasets", dataset, "--only", ",".join(rows),
               "--seeds", str(seed + 1), "--first-seed", str(seed), "--device", args.device]
    command += ["--data-root", str(args.data_root)] if args.data_root else []
    command += ["--threads", str(args.threads)] if args.threads else []
    return command + ["--quiet"] * bool(args.quiet) + ["--rerun"] * bool(args.rerun) + ["--worker"]


def run_workers(jobs: list[tuple[str, int, list[str]]], commands: list[list[str]], workers: int, logs: Path,
                poll: float = 1.0) -> int:
    """Run ``commands`` (one per job of ``jobs``), ``workers`` at a time, each with its output in
    ``logs/<dataset>_<rows>_seed<seed>.log``; say when each starts and ends (with the last line of its log).
    Each process records its runs as it finishes them, so a pool stopped with Ctrl-C (which ends its processes)
    loses only the runs in progress, which resume from their checkpoints when it is started again; a log is
    appended to, so the output of an earlier try stays above. Returns how many processes failed."""
    logs.mkdir(parents=True, exist_ok=True)
    queue = list(zip(jobs, commands))
    running: dict[subprocess.Popen, tuple[str, Path, float]] = {}
    failed = finished = 0
    try:
        while queue or running:
            while queue and len(running) < workers:
                (dataset, seed, rows), command = queue.pop(0)
                name = f"{dataset} {', '.join(ROW_NAMES[row] for row in rows)} seed {seed}"
                log = logs / f"{dataset}_{'+'.join(rows)}_seed{seed}.log"
                with open(log, "a") as out:
                    out.write(f"$ {' '.join(command)}\n")
                    out.flush()
                    running[subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)] = (name, log, time.time())
                print(f"[started {len(jobs) - len(queue)}/{len(jobs)}] {name} (log: {log})", flush=True)
            for process in [p for p in running if p.poll() is not None]:
                name, log, start = running.pop(process)
                finished += 1
                lines = [line for line in log.read_text(errors="replace").replace("\r", "\n").splitlines()
                         if line.strip()]
                last = lines[-1] if lines else "(no output)"
                if process.returncode:
                    failed += 1
                    last = f"FAILED (exit {process.returncode}): {last}; see {log}"
                print(f"[done {finished}/{len(jobs)}, {time.time() - start:.0f} s] {name}: {last}", flush=True)
            time.sleep(poll if running else 0)
    except KeyboardInterrupt:
        for process in running:
            process.terminate()
        for process in running:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        raise
    return failed


def main() -> None:
    parser = run_parser(__doc__)
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--only", default=None, help=f"comma-separated rows of {', '.join(ROW_NAMES)}")
    parser.add_argument("--seeds", type=int, default=None, help="seeds per dataset (default: 10 USPS, 3 others)")
    parser.add_argument("--first-seed", type=int, default=0,
                        help="start at this seed: runs seeds FIRST_SEED .. SEEDS-1, so that two processes can share "
                             "one row's seeds (default 0)")
    parser.add_argument("--workers", type=int, default=1,
                        help="run this many runs at a time, each in its own process (its output in "
                             "results/logs/), e.g. several on one GPU; default 1: one after the other in this process")
    # a process of --workers: its parent writes the tables
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--rerun", action="store_true",
                        help="run this script's own rows (DeepCluster, SDDECC, ablations) again where recorded: the "
                             "new record supersedes the old one and keeps its scores under 'replaces' (to check a run "
                             "reproduces, or to record a field older records lack)")
    args = parse_run_args(parser)
    if args.workers < 1:
        parser.error(f"--workers must be at least 1, got {args.workers}")
    datasets = comma_names(args.datasets, lambda d: catalog_dataset(parser, d))  # an alias or case: one dataset
    rows = list(TABLE_ROWS if args.only is None else dict.fromkeys(args.only.split(",")))
    check_known(parser, "dataset", datasets, DATASETS)
    check_known(parser, "row", rows, ROW_NAMES)
    short = [row for row in rows if row in SHORT_ROWS]
    if short and any(d not in SHORT_EPOCHS for d in datasets):
        parser.error(f"row(s) {short} have a shorter schedule only on {', '.join(SHORT_EPOCHS)}; "
                     f"not on {', '.join(d for d in datasets if d not in SHORT_EPOCHS)}")
    for dataset in datasets:  # without --seeds, each dataset's default
        if args.seeds is None:
            check_seed_range(parser, args.first_seed, DEFAULT_SEEDS[dataset], f"{dataset}'s default seeds")
        else:
            check_seed_range(parser, args.first_seed, args.seeds)
    env = versions()
    verbose = not args.quiet
    done = {path: done_keys(path) for path in {p for d in datasets for p in sources(d).values()}}
    previous = {(r["dataset"], r["method"], r["seed"]): r for r in read_runs(RESULTS / "sddecc.jsonl")}
    # --rerun: a run already made again under this code is done (a killed --rerun resumes, not restarts)
    rerun = {key for key, r in previous.items() if args.rerun and key[1] in OWN_ROWS
             and not (r.get("replaces") and r.get("code_version") == code_version())}
    todo = {(dataset, seed): [row for row in rows if (dataset, row, seed) not in done[sources(dataset)[row]]
                              or (dataset, row, seed) in rerun]
            for dataset in datasets for seed in range(args.first_seed, args.seeds or DEFAULT_SEEDS[dataset])}
    if args.workers > 1:
        jobs = worker_jobs({key: pending for key, pending in todo.items() if pending})
        failed = run_workers(jobs, [worker_command(args, *job) for job in jobs], args.workers, RESULTS / "logs")
        print(write_tables(DATASETS))
        if failed:
            sys.exit(f"{failed} of {len(jobs)} processes failed; their logs are in {RESULTS / 'logs'}")
        return
    total = sum(row not in BASELINES for pending in todo.values() for row in pending)
    started = 0  # of the ``total`` runs still to do, SDCN's and this script's own rows (baselines print their own)
    for dataset in datasets:
        files = sources(dataset)
        data = shared = None
        for seed in range(args.first_seed, args.seeds or DEFAULT_SEEDS[dataset]):
            pending = todo[(dataset, seed)]
            if not pending:
                continue
            if data is None:
                data = load_dataset(dataset, root=args.data_root)
            baselines = [row for row in pending if row in BASELINES]
            if baselines:
                run_baseline_seed(data, dataset, seed, baselines, files["kmeans"], device=args.device, env=env,
                                  pretrain_epochs=make_method("ae_kmeans").pretrain_epochs, verbose=verbose)
            for row in pending:
                if row in BASELINES:
                    continue
                started += 1
                print(f"[{started}/{total}] {dataset} {ROW_NAMES[row]} seed {seed}", flush=True)
                if row == "sdcn":  # on the dataset's shared kNN graph, as reproduce_graph.py and the grid run it
                    if shared is None:
                        shared = prepare_graph(copy.copy(data), verbose=False)
                    run_graph_method(shared, dataset, "sdcn", seed, files["sdcn"], device=args.device, env=env,
                                     verbose=verbose)
                else:
                    run_own_row(data, dataset, row, seed, files[row], device=args.device, env=env, verbose=verbose,
                                replaces=previous.get((dataset, row, seed)) if (dataset, row, seed) in rerun else None)
                if not args.worker:  # a --workers process leaves the tables to its parent
                    write_tables(DATASETS)  # every dataset's rows, not only those run now
    if not args.worker:
        print(write_tables(DATASETS))


if __name__ == "__main__":
    # the notes write_tables takes from sddecc_diagnostics and sddecc_lambda import this module: let them share
    # the running one, not load the file again (edited since this process started, it may not match its imports)
    sys.modules.setdefault("reproduce_sddecc", sys.modules["__main__"])
    main()
