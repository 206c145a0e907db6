import math
from collections import Counter

import networkx as nx
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import f1_score
from torch_geometric.data import Data

from graphclust.metrics import (
    ari_score,
    cluster_acc_score,
    conductance,
    evaluate,
    f1_macro_score,
    match_labels,
    modularity_score,
    nmi_score,
    silhouette,
)

# Each metric: (function, symmetric in (y_true, y_pred), lower bound, upper bound).
EXTERNAL = {
    "acc": (cluster_acc_score, True, 0.0, 1.0),
    "nmi": (nmi_score, True, 0.0, 1.0),
    "ari": (ari_score, True, -1.0, 1.0),
    "f1": (f1_macro_score, False, 0.0, 1.0),
}

# Two triangles {0,1,2} and {3,4,5} joined by the bridge 2-3; both directions listed.
TRIANGLES = [(0, 1), (1, 2), (0, 2), (3, 4), (4, 5), (3, 5), (2, 3)]
TWO_TRIANGLES = np.array([[i for i, j in TRIANGLES] + [j for i, j in TRIANGLES],
                          [j for i, j in TRIANGLES] + [i for i, j in TRIANGLES]])


def _nx_graph(edge_index, edge_weight=None):
    g = nx.Graph()
    for e, (i, j) in enumerate(np.asarray(edge_index).T):
        g.add_edge(int(i), int(j), weight=1.0 if edge_weight is None else float(edge_weight[e]))
    return g


# --------------------------------------------------------------------------- hand-computed examples


def test_acc_f1_six_samples_by_hand():
    # y_true = [0,0,0,1,1,2], y_pred = [1,1,0,0,0,2]. Contingency C[class, cluster]:
    #   class 0: cluster0 1, cluster1 2, cluster2 0
    #   class 1: cluster0 2, cluster1 0, cluster2 0
    #   class 2: cluster0 0, cluster1 0, cluster2 1
    # Best matching: 1->0 (2), 0->1 (2), 2->2 (1) = 5 of 6 -> ACC = 5/6.
    # F1 per class, 2TP/(|class|+|cluster|): 0: 4/(3+2)=0.8, 1: 4/(2+3)=0.8, 2: 2/2=1 -> 2.6/3.
    y_true, y_pred = [0, 0, 0, 1, 1, 2], [1, 1, 0, 0, 0, 2]
    assert cluster_acc_score(y_true, y_pred) == pytest.approx(5 / 6)
    assert match_labels(y_true, y_pred).tolist() == [0, 0, 1, 1, 1, 2]
    assert f1_macro_score(y_true, y_pred) == pytest.approx(2.6 / 3)
    assert f1_macro_score(y_true, y_pred) == pytest.approx(
        f1_score(y_true, match_labels(y_true, y_pred), average="macro"))


def test_more_clusters_than_classes():
    # C: class 0 -> [2, 1, 0], class 1 -> [0, 0, 3] over clusters (10, 11, 12).
    # 10->0 (2), 12->1 (3); cluster 11 is unmatched and its sample is an error: ACC = 5/6.
    # F1: class 0: 4/(3+2) = 0.8, class 1: 6/(3+3) = 1 -> 0.9.
    y_true, y_pred = [0, 0, 0, 1, 1, 1], [10, 10, 11, 12, 12, 12]
    assert cluster_acc_score(y_true, y_pred) == pytest.approx(5 / 6)
    mapped = match_labels(y_true, y_pred)
    assert mapped.tolist() == [0, 0, -1, 1, 1, 1]
    assert f1_macro_score(y_true, y_pred) == pytest.approx(0.9)
    assert f1_macro_score(y_true, y_pred) == pytest.approx(
        f1_score(y_true, mapped, labels=[0, 1], average="macro"))


def test_every_point_its_own_cluster():
    # 4 singleton clusters, 2 classes: only 2 clusters can be matched -> ACC = 2/4.
    assert cluster_acc_score([0, 0, 1, 1], [0, 1, 2, 3]) == pytest.approx(0.5)


def test_fewer_clusters_than_classes():
    # C: class 0 -> [3, 0], class 1 -> [0, 2], class 2 -> [0, 1] over clusters (4, 9).
    # 4->0 (3), 9->1 (2); class 2 unmatched, its sample is an error: ACC = 5/6.
    # F1: class 0: 6/(3+3) = 1, class 1: 4/(2+3) = 0.8, class 2: 0 -> 1.8/3 = 0.6.
    y_true, y_pred = [0, 0, 0, 1, 1, 2], [4, 4, 4, 9, 9, 9]
    assert cluster_acc_score(y_true, y_pred) == pytest.approx(5 / 6)
    assert match_labels(y_true, y_pred).tolist() == [0, 0, 0, 1, 1, 1]
    assert f1_macro_score(y_true, y_pred) == pytest.approx(0.6)


def test_tie_in_matches_is_broken_by_f1():
    # C: class 0 -> [3, 0], class 1 -> [1, 1], class 2 -> [0, 1] over clusters (5, 7).
    # 5->0 (3); cluster 7 matches class 1 or class 2 for 1 sample either way (ACC = 4/6), but
    # F1(1,7) = 2/(2+2) = 0.5 < F1(2,7) = 2/(1+2), so 7->2.
    # macro-F1 = (6/7 + 0 + 2/3) / 3 = 32/63.
    y_true, y_pred = [0, 0, 0, 1, 1, 2], [5, 5, 5, 5, 7, 7]
    assert cluster_acc_score(y_true, y_pred) == pytest.approx(4 / 6)
    assert match_labels(y_true, y_pred).tolist() == [0, 0, 0, 0, 2, 2]
    assert f1_macro_score(y_true, y_pred) == pytest.approx(32 / 63)
    # Renaming the clusters must not flip the tie.
    assert f1_macro_score(y_true, [7, 7, 7, 7, 5, 5]) == pytest.approx(32 / 63)


def test_negative_and_noncontiguous_labels():
    y_true = [-1, -1, 3, 3, 100]
    y_pred = [8, 8, -5, -5, 0]
    assert cluster_acc_score(y_true, y_pred) == 1.0
    assert match_labels(y_true, y_pred).tolist() == y_true
    # With -1 among the classes, the unmatched cluster 1 goes below the smallest class.
    assert match_labels([-1, -1, -1, 0], [0, 0, 1, 2]).tolist() == [-1, -1, -2, 0]


def test_modularity_two_triangles_by_hand():
    # m = 7, L_c = 3 and d_c = 2+2+3 = 7 for each triangle:
    # Q = 2 (3/7 - (7/14)^2) = 6/7 - 1/2 = 5/14.
    labels = [0, 0, 0, 1, 1, 1]
    q = modularity_score(TWO_TRIANGLES, labels)
    assert q == pytest.approx(5 / 14)
    g = _nx_graph(TWO_TRIANGLES)
    assert q == pytest.approx(nx.community.modularity(g, [{0, 1, 2}, {3, 4, 5}]))
    # One community: Q = 7/7 - 1 = 0.
    assert modularity_score(TWO_TRIANGLES, [0] * 6) == pytest.approx(0.0)
    # Torch input, n given.
    assert modularity_score(torch.as_tensor(TWO_TRIANGLES), torch.tensor(labels), n=6) == pytest.approx(5 / 14)


def test_modularity_weighted_against_networkx():
    w = np.tile([1.0, 2.0, 0.5, 1.0, 3.0, 1.0, 4.0], 2)
    labels = [0, 0, 1, 1, 2, 2]
    g = _nx_graph(TWO_TRIANGLES, w)
    expected = nx.community.modularity(g, [{0, 1}, {2, 3}, {4, 5}], weight="weight")
    assert modularity_score(TWO_TRIANGLES, labels, edge_weight=w) == pytest.approx(expected)


def test_conductance_two_triangles_by_hand():
    # Each triangle: cut = 1, vol = 7, vol(rest) = 7 -> 1/7; mean 1/7.
    assert conductance(TWO_TRIANGLES, [0, 0, 0, 1, 1, 1]) == pytest.approx(1 / 7)
    # {0,1} | {2,3} | {4,5}: cuts 2, 4, 2 (edges 0-2 1-2 | 0-2 1-2 3-4 3-5 | 3-4 3-5);
    # vols 4, 6, 4; rests 10, 8, 10 -> (2/4 + 4/6 + 2/4) / 3 = 5/9.
    assert conductance(TWO_TRIANGLES, [0, 0, 1, 1, 2, 2]) == pytest.approx(5 / 9)
    # One cluster holding every edge: min(vol, 0) = 0 -> skipped -> nan.
    assert math.isnan(conductance(TWO_TRIANGLES, [0] * 6))


def test_conductance_skips_zero_volume_clusters():
    # Node 6 is isolated and alone in cluster 2: zero volume, skipped.
    assert conductance(TWO_TRIANGLES, [0, 0, 0, 1, 1, 1, 2]) == pytest.approx(1 / 7)


def test_graph_metrics_without_edges():
    empty = np.zeros((2, 0), dtype=np.int64)
    assert math.isnan(modularity_score(empty, [0, 1, 1]))
    assert math.isnan(conductance(empty, [0, 1, 1]))


def test_silhouette():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(0, 0.1, (50, 2)), rng.normal(10, 0.1, (50, 2))])
    labels = np.repeat([0, 1], 50)
    assert silhouette(x, labels) > 0.95
    assert silhouette(torch.as_tensor(x), torch.as_tensor(labels)) == pytest.approx(silhouette(x, labels))
    # Sampled: deterministic for a fixed random_state.
    a = silhouette(x, labels, sample_size=20, random_state=3)
    assert a == silhouette(x, labels, sample_size=20, random_state=3)
    assert a > 0.9
    assert math.isnan(silhouette(x, np.zeros(100, dtype=int)))


def test_evaluate_keys():
    y_true, y_pred = [0, 0, 0, 1, 1, 1], [1, 1, 1, 0, 0, 0]
    assert set(evaluate(y_true, y_pred)) == {"acc", "nmi", "ari", "f1"}
    out = evaluate(y_true, y_pred, graph=TWO_TRIANGLES, x=np.arange(12.0).reshape(6, 2))
    assert set(out) == {"acc", "nmi", "ari", "f1", "modularity", "conductance", "silhouette"}
    assert out["modularity"] == pytest.approx(5 / 14)
    assert out["conductance"] == pytest.approx(1 / 7)
    w = np.ones(TWO_TRIANGLES.shape[1])
    out = evaluate(None, y_pred, graph=(torch.as_tensor(TWO_TRIANGLES), torch.as_tensor(w)))
    assert set(out) == {"modularity", "conductance"}
    data = Data(x=torch.zeros(6, 2), edge_index=torch.as_tensor(TWO_TRIANGLES))
    assert evaluate(None, y_pred, graph=data)["modularity"] == pytest.approx(5 / 14)
    assert evaluate(y_true, y_pred, graph=Data(x=torch.zeros(6, 2))).keys() == {"acc", "nmi", "ari", "f1"}


# --------------------------------------------------------------------------- input validation


@pytest.mark.parametrize("name", list(EXTERNAL))
def test_length_mismatch_quotes_both_lengths(name):
    fn = EXTERNAL[name][0]
    with pytest.raises(ValueError, match=r"len\(y_true\)=3.*len\(y_pred\)=2"):
        fn([0, 1, 1], [0, 1])


@pytest.mark.parametrize("name", list(EXTERNAL))
@pytest.mark.parametrize("bad, msg", [
    ([], "empty"),
    ([[0, 1], [1, 0]], "1-D"),
    ([0.0, float("nan")], "NaN"),
    ([0.5, 1.0], "integer"),
    (["a", "b"], "integer"),
])
def test_bad_labels(name, bad, msg):
    fn = EXTERNAL[name][0]
    with pytest.raises(ValueError, match=msg):
        fn(bad, bad)


def test_accepts_lists_numpy_torch():
    y_true, y_pred = [0, 0, 1, 1, 2], [2, 2, 0, 0, 0]
    ref = evaluate(y_true, y_pred)
    assert evaluate(np.array(y_true), np.array(y_pred)) == ref
    assert evaluate(torch.tensor(y_true), torch.tensor(y_pred)) == ref
    assert evaluate(torch.tensor(y_true, dtype=torch.float32), np.array(y_pred, dtype=np.int32)) == ref


@pytest.mark.parametrize("fn", [modularity_score, conductance])
def test_bad_graphs(fn):
    labels = [0, 0, 0, 1, 1, 1]
    with pytest.raises(ValueError, match=r"\[2, E\]"):
        fn(TWO_TRIANGLES.T, labels)
    with pytest.raises(ValueError, match="max=6"):
        fn(TWO_TRIANGLES + 1, labels)
    with pytest.raises(ValueError, match="non-negative"):
        fn(TWO_TRIANGLES, labels, edge_weight=-np.ones(14))
    with pytest.raises(ValueError, match=r"\(14,\)"):
        fn(TWO_TRIANGLES, labels, edge_weight=np.ones(3))
    with pytest.raises(ValueError, match="n=7"):
        fn(TWO_TRIANGLES, labels, n=7)


# --------------------------------------------------------------------------- properties

labels_st = st.lists(st.integers(-2, 4), min_size=1, max_size=30)


@st.composite
def label_pairs(draw):
    y_true = draw(labels_st)
    y_pred = draw(st.lists(st.integers(-2, 4), min_size=len(y_true), max_size=len(y_true)))
    return np.array(y_true), np.array(y_pred)


@st.composite
def renamed(draw, y):
    """``y`` with its ids renamed by a random injective map onto arbitrary ints."""
    ids = np.unique(y)
    new = draw(st.lists(st.integers(-1000, 1000), min_size=ids.size, max_size=ids.size, unique=True))
    return np.array(new)[np.searchsorted(ids, y)]


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_renaming_clusters_or_classes_changes_nothing(data):
    y_true, y_pred = data.draw(label_pairs())
    y_pred2 = data.draw(renamed(y_pred))
    y_true2 = data.draw(renamed(y_true))
    for name, (fn, _, _, _) in EXTERNAL.items():
        ref = fn(y_true, y_pred)
        assert fn(y_true, y_pred2) == pytest.approx(ref, abs=1e-12), name
        assert fn(y_true2, y_pred) == pytest.approx(ref, abs=1e-12), name


@settings(max_examples=60, deadline=None)
@given(pair=label_pairs())
def test_symmetry_and_bounds(pair):
    y_true, y_pred = pair
    for name, (fn, symmetric, lo, hi) in EXTERNAL.items():
        v = fn(y_true, y_pred)
        assert lo - 1e-12 <= v <= hi + 1e-12, (name, v)
        if symmetric:
            assert fn(y_pred, y_true) == pytest.approx(v, abs=1e-12), name


@settings(max_examples=40, deadline=None)
@given(y=labels_st)
def test_perfect_prediction_scores_one(y):
    y = np.array(y)
    y_pred = -y  # a renaming of the classes
    for name, (fn, _, _, _) in EXTERNAL.items():
        assert fn(y, y_pred) == pytest.approx(1.0), name


@settings(max_examples=40, deadline=None)
@given(pair=label_pairs())
def test_acc_and_f1_agree_with_match_labels(pair):
    y_true, y_pred = pair
    mapped = match_labels(y_true, y_pred)
    assert cluster_acc_score(y_true, y_pred) == pytest.approx(np.mean(mapped == y_true))
    assert f1_macro_score(y_true, y_pred) == pytest.approx(
        f1_score(y_true, mapped, labels=np.unique(y_true), average="macro", zero_division=0))
    # Matching only the largest contingency cell is feasible, so ACC is at least its share.
    largest_cell = max(Counter(zip(y_true.tolist(), y_pred.tolist())).values())
    assert cluster_acc_score(y_true, y_pred) >= largest_cell / len(y_true) - 1e-12


@st.composite
def graphs(draw):
    n = draw(st.integers(2, 10))
    pairs = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1))
                          .filter(lambda e: e[0] != e[1]), min_size=1, max_size=20))
    edges = sorted({(min(i, j), max(i, j)) for i, j in pairs})
    w = np.array(draw(st.lists(st.floats(0.1, 5.0), min_size=len(edges), max_size=len(edges))))
    labels = np.array(draw(st.lists(st.integers(-1, 3), min_size=n, max_size=n)))
    src = [i for i, j in edges] + [j for i, j in edges]
    dst = [j for i, j in edges] + [i for i, j in edges]
    return n, edges, w, np.array([src, dst]), np.concatenate([w, w]), labels


def test_conductance_of_one_cluster_holding_every_edge_is_nan_despite_rounding():
    # found by hypothesis: the weights sum to 4.2 in one order and to 4.2 - 4e-16 in another
    edge_index = np.array([[0, 0, 0, 0, 1, 2, 3, 4], [1, 2, 3, 4, 0, 0, 0, 0]])
    weight = np.array([1.0, 1.0, 1.0, 0.1, 1.0, 1.0, 1.0, 0.1])
    assert math.isnan(conductance(edge_index, np.zeros(5, dtype=int), weight, n=5))


@settings(max_examples=40, deadline=None)
@given(graph=graphs())
def test_graph_metrics_against_networkx(graph):
    n, edges, w, edge_index, edge_weight, labels = graph
    g = nx.Graph()
    g.add_nodes_from(range(n))
    g.add_weighted_edges_from((i, j, float(x)) for (i, j), x in zip(edges, w))
    communities = [set(np.flatnonzero(labels == c).tolist()) for c in np.unique(labels)]
    q = modularity_score(edge_index, labels, edge_weight, n=n)
    assert q == pytest.approx(nx.community.modularity(g, communities, weight="weight"), abs=1e-9)
    phis = []
    for c in communities:
        rest = set(range(n)) - c
        denom = min(nx.volume(g, c, weight="weight"), nx.volume(g, rest, weight="weight"))
        if denom > 0:
            phis.append(nx.cut_size(g, c, rest, weight="weight") / denom)
    phi = conductance(edge_index, labels, edge_weight, n=n)
    if phis:
        assert phi == pytest.approx(np.mean(phis), abs=1e-9)
        assert 0.0 <= phi <= 1.0 + 1e-12
    else:
        assert math.isnan(phi)
    # Renaming communities changes neither.
    ids = np.unique(labels)
    relabelled = (np.arange(ids.size)[::-1] * 7 - 3)[np.searchsorted(ids, labels)]
    assert modularity_score(edge_index, relabelled, edge_weight) == pytest.approx(q, abs=1e-12)
    phi2 = conductance(edge_index, relabelled, edge_weight)
    assert (math.isnan(phi) and math.isnan(phi2)) or phi2 == pytest.approx(phi, abs=1e-12)
