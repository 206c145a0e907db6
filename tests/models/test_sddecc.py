"""SDDECC: network shapes, the transfer operator, the GCN warm-up and joint schedule, the ablations,
input kinds, determinism, and clustering of easy synthetic images."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch_geometric.data import Data

from conftest import Killed, assert_same_fit, bar_images, die_after_saves, spy_train
from graphclust.graphs import gcn_norm
from graphclust.metrics import cluster_acc_score
from graphclust.models.sddecc import SDDECC, negative_permutation
from graphclust.nn.sddecc import SDDECCModule, square_image_shape

# small networks and a short, fast schedule; lr 5e-3 so that ~300 steps suffice
FAST = dict(channels=(8, 16), latent=4, hidden=16, pretrain_epochs=30, gcn_warmup_steps=50, gcn_steps=5, epochs=40,
            batch_size=16, lr=5e-3, n_init=5, verbose=False)
TINY = {**FAST, "pretrain_epochs": 2, "epochs": 2}


@pytest.fixture(scope="module")
def images():
    return bar_images()


@pytest.fixture(scope="module")
def fitted(images):
    x, _ = images
    return SDDECC(n_clusters=3, random_state=0, **FAST).fit(x)


# -- networks ----------------------------------------------------------------------------------

@pytest.mark.parametrize("shape, channels, feature, transfer_size, widths", [
    # USPS: 16x16 -> 16x8x8 -> 32x4x4; pooled to 4x4: 16x4x4 (256), 32x4x4 (512)
    ((1, 16, 16), (16, 32), (32, 4, 4), 4, (256, 256, 512, 10, 10)),
    ((1, 16, 16), (16, 32), (32, 4, 4), None, (256, 1024, 512, 10, 10)),
    ((1, 16, 16), (16, 32), (32, 4, 4), 1, (256, 16, 32, 10, 10)),
    # MNIST / Fashion-MNIST: 28x28 -> 16x14x14 -> 16x7x7 -> 32x7x7 -> 32x7x7
    ((1, 28, 28), (16, 16, 32, 32), (32, 7, 7), 4, (784, 256, 256, 512, 512, 10, 10)),
    ((1, 28, 28), (16, 16, 32, 32), (32, 7, 7), None, (784, 3136, 784, 1568, 1568, 10, 10)),
])
def test_paper_architectures(shape, channels, feature, transfer_size, widths):
    n_pix = int(np.prod(shape))
    module = SDDECCModule(n_pix, shape, n_clusters=10, latent=10, transfer_size=transfer_size)
    assert module.encoder.channels == channels  # Table 2
    assert module.encoder.feature_shape == feature  # C(x): M×M = 4×4 / 7×7
    assert tuple([module.gcn[0].linear.in_features] + [g.linear.out_features for g in module.gcn]) == widths
    module.reset_parameters(torch.Generator().manual_seed(0))
    x = torch.rand(3, n_pix, generator=torch.Generator().manual_seed(1))
    enc = module.encode(x)
    assert enc.mu.shape == enc.logvar.shape == (3, 10)
    assert enc.feature_map.shape == (3, *feature)
    assert [p.shape for p in enc.layers] == [(3, w) for w in widths[1:-2]]
    assert module.decode(enc.mu).shape == (3, n_pix)
    perm = negative_permutation(3, torch.Generator().manual_seed(2))
    scores = module.mi_scores(enc.mu, enc.mu, enc.feature_map, perm)
    assert scores.global_pos.shape == scores.global_neg.shape == (3,)
    assert scores.local_pos.shape == scores.local_neg.shape == (3, *feature[1:])


@pytest.mark.parametrize("local_layer", [0, -2])
def test_local_mi_can_read_the_first_convolutions_map(local_layer):
    # USPS: conv 1 gives 16x8x8; the decoder and the heads still start from the last map, 32x4x4
    module = SDDECCModule(256, (1, 16, 16), n_clusters=10, latent=10, local_layer=local_layer)
    assert module.encoder.local_shape == (16, 8, 8) and module.encoder.feature_shape == (32, 4, 4)
    assert module.local_disc.feature_channels == 16
    module.reset_parameters(torch.Generator().manual_seed(0))
    x = torch.rand(3, 256, generator=torch.Generator().manual_seed(1))
    enc = module.encode(x)
    first = torch.relu(module.encoder.convs[0](module.to_image(x)))
    torch.testing.assert_close(enc.feature_map, first)
    scores = module.mi_scores(enc.mu, enc.mu, enc.feature_map, negative_permutation(3, torch.Generator()))
    assert scores.local_pos.shape == scores.local_neg.shape == (3, 8, 8)
    # the default reads the last map, which the heads read too
    last = SDDECCModule(256, (1, 16, 16), n_clusters=10, latent=10)
    assert last.encoder.local_shape == last.encoder.feature_shape == (32, 4, 4)


def test_networks_have_short_reprs():
    module = SDDECCModule(256, (1, 16, 16), n_clusters=10, latent=10)
    assert repr(module) == "SDDECCModule(image=1x16x16, channels=16-32, latent=10, gcn=256-512-10-10, delta=0.5)"
    assert repr(module.encoder) == "ConvGaussianEncoder(1x16x16 -> 16-32 -> 10)"
    assert repr(module.decoder) == "ConvDecoder(10 -> 32-16 -> 1x16x16)"  # Decoder-1..L of Table 2, then the image
    assert repr(module.global_disc) == "GlobalMIDiscriminator(latent=10, hidden=64)"
    assert repr(module.local_disc) == "LocalMIDiscriminator(feature_channels=32, latent=10, hidden=64)"


def test_flat_features_are_padded_into_a_square_image():
    assert square_image_shape(8) == (1, 3, 3)
    assert square_image_shape(9) == (1, 3, 3)
    assert square_image_shape(1) == (1, 1, 1)
    module = SDDECCModule(8, None, n_clusters=2, channels=(4,), latent=2)
    module.reset_parameters(torch.Generator().manual_seed(0))
    x = torch.arange(16.0).reshape(2, 8)
    image = module.to_image(x)
    assert image.shape == (2, 1, 3, 3) and image[:, 0, 2, 2].eq(0).all()  # the ninth pixel is padding
    torch.testing.assert_close(module.to_flat(image), x)
    assert module.decode(torch.zeros(2, 2)).shape == (2, 8)


def _path_graph(n):
    src = torch.arange(n - 1)
    return torch.stack([torch.cat([src, src + 1]), torch.cat([src + 1, src])])


def _small_module(delta):
    module = SDDECCModule(16, (1, 4, 4), n_clusters=2, channels=(3, 5), latent=2, delta=delta)
    module.reset_parameters(torch.Generator().manual_seed(0))
    adj = gcn_norm(_path_graph(6), None, 6)
    x = torch.rand(6, 16, generator=torch.Generator().manual_seed(1))
    return module, adj, x


def _posterior(module, adj, x):
    enc = module.encode(x)
    return module.cluster_posterior(adj @ x, module.transfer(enc), lambda layer, h: adj @ h)


def test_cluster_posterior_rows_are_distributions():
    y, mixed = _posterior(*_small_module(0.5))
    assert y.shape == (6, 2)
    torch.testing.assert_close(y.sum(1), torch.ones(6))
    assert [h.shape[1] for h in mixed] == [12, 5, 2]  # H̃ widths: 3x2x2, 5x1x1 (maps under 4x4), d


def test_transfer_operator_delta_one_reads_only_the_encoder():
    module, adj, x = _small_module(1.0)
    before, mixed = _posterior(module, adj, x)
    with torch.no_grad():
        module.gcn[0].linear.weight.mul_(3.0)  # H^(1) is entirely replaced by Z^(1)
    after, mixed_after = _posterior(module, adj, x)
    torch.testing.assert_close(after, before)
    torch.testing.assert_close(mixed_after[0], module.transfer(module.encode(x))[0])  # H̃^(1) = Z^(1)
    module, adj, x = _small_module(0.5)
    _, mixed = _posterior(module, adj, x)
    with torch.no_grad():
        module.gcn[0].linear.weight.mul_(3.0)
    _, mixed_after = _posterior(module, adj, x)
    h1 = torch.relu(adj @ x @ module.gcn[0].linear.weight.t())  # H^(1) with the scaled weight
    torch.testing.assert_close(mixed_after[0], 0.5 * h1 + 0.5 * module.transfer(module.encode(x))[0])
    assert not torch.allclose(mixed_after[0], mixed[0])


def test_negative_permutation_has_no_fixed_points():
    gen = torch.Generator().manual_seed(0)
    for b in (2, 3, 17):
        perm = negative_permutation(b, gen)
        assert sorted(perm.tolist()) == list(range(b))
        assert (perm != torch.arange(b)).all()


# -- estimator -----------------------------------------------------------------------------------

def test_full_model_clusters_easy_images(images, fitted):
    x, y = images
    assert cluster_acc_score(y, fitted.labels_) >= 0.9
    assert fitted.labels_.shape == (90,) and fitted.labels_.dtype == np.int64
    assert fitted.embedding_.shape == (90, 4)
    assert fitted.soft_labels_.shape == (90, 3)
    np.testing.assert_allclose(fitted.soft_labels_.sum(1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(fitted.labels_, fitted.soft_labels_.argmax(1))
    assert fitted.cluster_centers_.shape == (3, 4)
    stages = [h["stage"] for h in fitted.history_]
    assert stages == ["pretrain"] * 30 + ["gcn_warmup"] * 50 + ["joint"] * 40
    warmup = [h for h in fitted.history_ if h["stage"] == "gcn_warmup"]
    assert warmup[-1]["agreement"] >= 0.9  # the GCN's Y has learnt the initial posterior
    assert warmup[-1]["loss"] < warmup[0]["loss"]
    assert all(0.0 <= h["delta_label"] <= 1.0 for h in fitted.history_ if h["stage"] == "joint")
    assert {"loss", "rec", "prior_kl", "mi_global", "mi_local"} <= set(fitted.history_[0])
    assert {"loss", "rec", "clu", "mi_global", "mi_local", "clu_dist", "clu_var", "clu_cat"} <= set(fitted.history_[-1])
    last = fitted.history_[-1]
    assert last["clu_dist"] + last["clu_var"] + last["clu_cat"] == pytest.approx(last["clu"], rel=1e-4)


@pytest.mark.parametrize("use_mi, use_gcn", [(False, False), (True, False), (False, True)])
def test_ablations_fit(images, use_mi, use_gcn):
    x, _ = images
    model = SDDECC(n_clusters=3, use_mi=use_mi, use_gcn=use_gcn, random_state=0, **TINY).fit(x)
    assert model.labels_.shape == (90,)
    np.testing.assert_allclose(model.soft_labels_.sum(1), 1.0, atol=1e-5)
    assert ("mi_global" in model.history_[-1]) == use_mi
    assert (len(model.module_.gcn) > 0) == use_gcn


def test_local_mi_on_the_first_map_reads_only_the_first_convolution(images):
    x, _ = images
    model = SDDECC(n_clusters=3, local_layer=0, random_state=0, **TINY).fit(x)
    assert model.module_.local_disc.feature_channels == 8  # FAST's channels (8, 16): the first map has 8
    assert all(np.isfinite(h["mi_local"]) for h in model.history_ if "mi_local" in h)
    # with z held fixed, T2's scores reach the first convolution only: they read its map, not the last one
    module = model.module_
    enc = module.encode(torch.as_tensor(x[:8].reshape(8, -1), dtype=torch.float32))
    z = enc.mu.detach()
    module.zero_grad()
    module.local_disc(enc.feature_map, z).sum().backward()
    assert module.encoder.convs[0].weight.grad.abs().sum() > 0
    assert module.encoder.convs[1].weight.grad is None or not module.encoder.convs[1].weight.grad.any()


def test_same_random_state_gives_identical_labels(images):
    x, _ = images
    a = SDDECC(n_clusters=3, random_state=3, **TINY).fit(x)
    b = SDDECC(n_clusters=3, random_state=3, **TINY).fit(x)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_array_equal(a.soft_labels_, b.soft_labels_)


@pytest.mark.parametrize("joint", ["alternating", "end_to_end"])
def test_full_batch_and_mini_batch_paths(images, joint):
    x, _ = images
    model = SDDECC(n_clusters=3, random_state=0, joint=joint, **{**TINY, "batch_size": 512}).fit(x)  # batch >= N
    assert model.labels_.shape == (90,)


def test_image_layouts_agree_and_flat_input_works(images):
    x, _ = images
    a = SDDECC(n_clusters=3, random_state=0, **TINY).fit(x)  # [N, H, W]
    b = SDDECC(n_clusters=3, random_state=0, **TINY).fit(x[:, None])  # [N, 1, H, W]
    np.testing.assert_array_equal(a.labels_, b.labels_)
    assert a.module_.image_shape == (1, 8, 8)
    flat = SDDECC(n_clusters=3, random_state=0, **TINY).fit(x.reshape(90, 64)[:, :10])  # [N, F], no image shape
    assert flat.module_.image_shape == (1, 4, 4) and flat.labels_.shape == (90,)


def test_monitoring_labels_do_not_change_the_result(images):
    x, y = images
    plain = SDDECC(n_clusters=3, random_state=1, **TINY).fit(x)
    watched = SDDECC(n_clusters=3, random_state=1, **TINY).fit(x, y)
    np.testing.assert_array_equal(plain.labels_, watched.labels_)
    assert "acc" in watched.history_[-1] and "acc" not in plain.history_[-1]


@pytest.mark.parametrize("params, message", [
    ({"lambda1": -0.1}, "lambda1"),
    ({"delta": 1.5}, "delta"),
    ({"channels": ()}, "channels"),
    ({"latent": 0}, "latent"),
    ({"kl_reduction": "max"}, "kl_reduction"),
    ({"kl_reduction": ("mean",)}, "kl_reduction"),
    ({"kl_reduction": ("mean", "max")}, "kl_reduction"),
    ({"gcn_lr": 0.0}, "gcn_lr"),
    ({"joint": "jointly"}, "joint"),
    ({"reconstruction": "sample"}, "reconstruction"),
    ({"local_layer": 2}, "local_layer"),  # FAST has two convolutions
    ({"local_layer": -3}, "local_layer"),
    ({"local_layer": 0.0}, "local_layer"),
])
def test_bad_parameters_are_clear_errors(images, params, message):
    with pytest.raises(ValueError, match=message):
        SDDECC(n_clusters=3, **{**TINY, **params}).fit(images[0])


def test_gcn_lr_drives_the_gcn_optimiser_only(images, monkeypatch):
    import graphclust.models.sddecc as sddecc_module
    import graphclust.training.checkpoint as checkpoint_module

    built = []  # (ids of the parameters, lr) of every optimiser the fit builds
    real = sddecc_module.make_optimizer

    def recording(params, name="adam", lr=1e-3, **kwargs):
        params = list(params)
        built.append(({id(p) for p in params}, lr))
        return real(params, name, lr=lr, **kwargs)

    monkeypatch.setattr(sddecc_module, "make_optimizer", recording)
    model = SDDECC(n_clusters=3, random_state=0, **{**TINY, "lr": 2e-3, "gcn_lr": 7e-3}).fit(images[0])
    gcn = {id(p) for p in model.module_.gcn.parameters()}
    assert [lr for ids, lr in built if ids == gcn] == [7e-3]  # one GCN optimiser, at gcn_lr
    others = [(ids, lr) for ids, lr in built if ids != gcn]
    assert len(others) == 2 and all(lr == 2e-3 and not ids & gcn for ids, lr in others)  # pretrain, joint


def test_gcn_lr_changes_nothing_without_the_gcn(images):
    x, _ = images
    a = SDDECC(n_clusters=3, use_gcn=False, random_state=0, **{**TINY, "gcn_lr": 1e-2}).fit(x)
    b = SDDECC(n_clusters=3, use_gcn=False, random_state=0, **{**TINY, "gcn_lr": 1e-4}).fit(x)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_array_equal(a.embedding_, b.embedding_)


def test_defaults_are_the_papers():
    params = SDDECC().get_params()
    assert params["n_neighbors"] == 3 and params["delta"] == 0.5
    assert params["lambda1"] in (0.001, 0.005, 0.01, 0.05, 0.1)
    assert params["lambda2"] in (1, 1.25, 1.5, 1.75, 2)
    assert params["use_mi"] and params["use_gcn"]


# -- checkpoints ---------------------------------------------------------------------------------
CKPT = {**TINY, "pretrain_epochs": 2, "gcn_warmup_steps": 3, "gcn_steps": 2, "epochs": 3}
# saves: after pretraining, after the warm-up, after each of the 3 joint epochs


@pytest.mark.parametrize("use_gcn, joint", [(True, "alternating"), (False, "alternating"), (True, "end_to_end")])
def test_a_fit_killed_after_any_checkpoint_resumes_to_the_same_model(images, tmp_path, monkeypatch, use_gcn, joint):
    import graphclust.models.sddecc as sddecc_module

    x, y = images
    params = dict(n_clusters=3, random_state=5, use_gcn=use_gcn, joint=joint, **CKPT)
    reference = SDDECC(**params).fit(x, y)
    path = tmp_path / "fit.ckpt"
    assert np.array_equal(SDDECC(**params, checkpoint=path).fit(x, y).labels_, reference.labels_)
    assert path.exists() and reference.resumed_ is None  # kept: the caller deletes it when the result is safe
    again = SDDECC(**params, checkpoint=path).fit(x, y)  # complete: the same model, no training
    assert again.resumed_["epochs_done"] == CKPT["epochs"] and again.history_ == reference.history_
    np.testing.assert_array_equal(again.embedding_, reference.embedding_)

    for kill_after in range(1, 6):
        path.unlink()
        with monkeypatch.context() as patch, pytest.raises(Killed):
            saved = die_after_saves(patch, kill_after)
            SDDECC(**params, checkpoint=path).fit(x, y)
        assert path.exists()
        with monkeypatch.context() as patch:
            calls = spy_train(patch, sddecc_module)
            resumed = SDDECC(**params, checkpoint=path).fit(x, y)
        stages = {desc for desc, _ in calls}
        assert "pretrain DDECN" not in stages
        assert ("warm up GCN" in stages) == (use_gcn and kill_after == 1)
        assert (type(resumed).__name__, max(kill_after - 2, 0)) in calls  # joint epochs left off
        assert resumed.resumed_["stage"] == saved[-1][0] and resumed.resumed_["elapsed_s"] > 0
        assert resumed.resumed_["epochs_done"] == max(kill_after - 2, 0)
        assert_same_fit(resumed, reference, "cluster_centers_")
    assert [stage for stage, _ in saved] == ["pretrained", "initialised", "joint", "joint", "joint"]


def test_a_checkpoint_of_another_fit_is_refused(images, tmp_path, monkeypatch):
    x, _ = images
    path = tmp_path / "fit.ckpt"
    with monkeypatch.context() as patch, pytest.raises(Killed):
        die_after_saves(patch, 1)
        SDDECC(n_clusters=3, random_state=0, checkpoint=path, **CKPT).fit(x)
    with pytest.raises(ValueError, match="other settings or data"):
        SDDECC(n_clusters=3, random_state=1, checkpoint=path, **CKPT).fit(x)  # another seed
    with pytest.raises(ValueError, match="other settings or data"):
        SDDECC(n_clusters=3, random_state=0, checkpoint=path, **CKPT).fit(x[::-1].copy())  # other data
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="cannot be read"):
        SDDECC(n_clusters=3, random_state=0, checkpoint=path, **CKPT).fit(x)
    with pytest.raises(TypeError, match="checkpoint"):
        SDDECC(n_clusters=3, checkpoint=3, **CKPT).fit(x)


def test_a_fit_seeded_by_a_generator_resumes_in_another_generator_with_the_same_state(images, tmp_path,
                                                                                       monkeypatch):
    """The fingerprint counts a torch generator by its state (its repr holds a memory address)."""
    x, _ = images
    path = tmp_path / "fit.ckpt"
    reference = SDDECC(n_clusters=3, random_state=2, **CKPT).fit(x)
    with monkeypatch.context() as patch, pytest.raises(Killed):
        die_after_saves(patch, 1)
        SDDECC(n_clusters=3, random_state=torch.Generator().manual_seed(2), checkpoint=path, **CKPT).fit(x)
    resumed = SDDECC(n_clusters=3, random_state=torch.Generator().manual_seed(2), checkpoint=path, **CKPT).fit(x)
    assert resumed.resumed_["stage"] == "pretrained"
    np.testing.assert_array_equal(resumed.embedding_, reference.embedding_)


def test_the_graph_the_gcn_ran_on_is_kept(images, fitted):
    x, _ = images
    edge_index, edge_weight = fitted.edge_index_, fitted.edge_weight_
    assert edge_index.shape[0] == 2 and edge_index.dtype == torch.long
    assert edge_index.shape[1] >= 90 * 3  # k = 3 neighbours per image, symmetrised
    assert edge_weight is None or edge_weight.shape == (edge_index.shape[1],)
    given = Data(x=torch.as_tensor(x).flatten(1), edge_index=edge_index[:, :150].clone(), image_shape=(8, 8))
    model = SDDECC(n_clusters=3, random_state=0, **TINY).fit(given)
    torch.testing.assert_close(model.edge_index_, given.edge_index)  # the input's edges, as given
    no_gcn = SDDECC(n_clusters=3, use_gcn=False, random_state=0, **TINY).fit(x)
    assert no_gcn.edge_index_ is None and no_gcn.edge_weight_ is None


def test_kl_reduction_pair_sets_the_prior_kl_and_l_c_apart(images):
    x, _ = images
    same = SDDECC(n_clusters=3, random_state=0, kl_reduction="mean", **TINY).fit(x)
    pair = SDDECC(n_clusters=3, random_state=0, kl_reduction=("mean", "mean"), **TINY).fit(x)
    np.testing.assert_array_equal(pair.soft_labels_, same.soft_labels_)
    literal = SDDECC(n_clusters=3, random_state=0, kl_reduction=("mean", "sum"), **TINY).fit(x)
    pretrain = [h for h in same.history_ if h["stage"] == "pretrain"]
    assert [h for h in literal.history_ if h["stage"] == "pretrain"] == pretrain  # the prior KL: averaged in both
    d = same.embedding_.shape[1]
    warm = [h["loss"] for h in literal.history_ if h["stage"] == "gcn_warmup"]
    warm_mean = [h["loss"] for h in same.history_ if h["stage"] == "gcn_warmup"]
    assert warm[0] == pytest.approx(d * warm_mean[0], rel=1e-5)  # same start, L_c summed: d times the mean


def test_mean_reconstruction_is_the_summed_one_over_half_the_pixels(images):
    x, _ = images  # 8x8 images: F = 64
    # full batch: the first pretraining record is the loss at the initial model
    one_step = {**TINY, "pretrain_epochs": 1, "epochs": 1, "batch_size": len(x)}
    summed = SDDECC(n_clusters=3, random_state=0, **one_step).fit(x)
    mean = SDDECC(n_clusters=3, random_state=0, reconstruction="mean", **one_step).fit(x)
    first = [next(h for h in m.history_ if h["stage"] == "pretrain") for m in (summed, mean)]
    assert first[1]["rec"] == pytest.approx(first[0]["rec"] * 2 / 64, rel=1e-5)
    assert first[1]["prior_kl"] == pytest.approx(first[0]["prior_kl"], rel=1e-6)  # same model, same draws
    assert first[1]["loss"] < first[0]["loss"]


# -- end-to-end joint training -------------------------------------------------------------------

@pytest.mark.parametrize("joint", ["alternating", "end_to_end"])
def test_end_to_end_joint_steps_take_l_c_through_y_into_the_encoder(images, monkeypatch, joint):
    import graphclust.models.sddecc as sddecc_module

    seen = []  # per joint step: (Y needs a gradient, the encoder's first conv weight gets one from Y)
    real = sddecc_module.joint_clustering_loss

    def recording(y, mu, logvar, means, reduction="mean", return_parts=False):
        if return_parts:  # the joint stage's mini-batch steps (the GCN's own steps do not ask for parts)
            conv = next(module for module in fit_model[0].encoder.modules() if isinstance(module, torch.nn.Conv2d))
            grad = None
            if y.requires_grad:
                grad = torch.autograd.grad(y.pow(2).sum(), conv.weight, retain_graph=True, allow_unused=True)[0]
            seen.append((y.requires_grad, grad is not None and bool(grad.abs().sum() > 0)))
        return real(y, mu, logvar, means, reduction=reduction, return_parts=return_parts)

    fit_model = []
    real_module = sddecc_module.SDDECCModule

    def keep(*args, **kwargs):
        fit_model.append(real_module(*args, **kwargs))
        return fit_model[-1]

    monkeypatch.setattr(sddecc_module, "joint_clustering_loss", recording)
    monkeypatch.setattr(sddecc_module, "SDDECCModule", keep)
    calls = spy_train(monkeypatch, sddecc_module)
    model = SDDECC(n_clusters=3, random_state=0, joint=joint, **TINY)
    model.fit(images[0])
    assert len(seen) == TINY["epochs"] * int(np.ceil(90 / TINY["batch_size"]))
    expected = (joint == "end_to_end", joint == "end_to_end")
    assert all(step == expected for step in seen)
    assert model.labels_.shape == (90,)
    assert all(0.0 <= h["delta_label"] <= 1.0 for h in model.history_ if h["stage"] == "joint")
    # the GCN's own full-batch steps run after every epoch only when alternating
    assert sum(desc == "GCN" for desc, _ in calls) == (TINY["epochs"] if joint == "alternating" else 0)
    # end to end, the joint steps train the GCN too: it leaves the warm-up's weights (those of a fit with no epochs)
    warmed_up = SDDECC(n_clusters=3, random_state=0, joint=joint, **{**TINY, "epochs": 0}).fit(images[0])
    moved = [not torch.equal(a, b) for a, b in zip(model.module_.gcn.parameters(), warmed_up.module_.gcn.parameters())]
    assert all(moved)


def test_batch_posterior_splices_fresh_rows_into_the_cache():
    """With the model unchanged since the cache was encoded, the batch rows of Y equal the full
    graph's; the gradient reaches the batch's fresh features, and the cache only in the other rows."""
    module, adj, x = _small_module(0.5)
    with torch.no_grad():
        full = _posterior(module, adj, x)[0]
    idx = torch.tensor([1, 4])
    cached = tuple(t.requires_grad_() for t in (t.detach().clone() for t in module.transfer(module.encode(x))))
    fresh = module.transfer(module.encode(x[idx]))
    y = module.batch_posterior(adj @ x, cached, fresh, idx, lambda layer, h: adj @ h)
    assert y.shape == (2, 2)
    torch.testing.assert_close(y, full[idx])
    loss = (y[:, 0] ** 2).sum()
    grads = torch.autograd.grad(loss, [*cached, *fresh], allow_unused=True)
    assert all(g is None or not g[idx].any() for g in grads[:len(cached)])  # the batch's cached rows: replaced
    assert any(g is not None and g.any() for g in grads[:len(cached)])  # its neighbours' rows: read
    assert any(g is not None and g.any() for g in grads[len(cached):])
    # a stale cache moves the batch's Y: the other rows do enter the forward
    shifted = tuple(t.detach() + 1.0 for t in cached)
    other = module.batch_posterior(adj @ x, shifted, [f.detach() for f in fresh], idx, lambda layer, h: adj @ h)
    assert not torch.allclose(other, y.detach())
