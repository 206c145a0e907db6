import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
import torch
from torch_geometric.data import Data

from graphclust.graphs import as_data, validate_graph


def test_tabular_numpy():
    x = np.arange(12, dtype=np.int64).reshape(4, 3)
    d = as_data(x)
    assert d.x.dtype == torch.float32 and d.x.shape == (4, 3)
    assert torch.equal(d.x, torch.arange(12.0).reshape(4, 3))
    assert getattr(d, "image_shape", None) is None
    assert d.edge_index is None and d.edge_weight is None and d.y is None


def test_torch_float64_and_labels():
    d = as_data(torch.rand(5, 2, dtype=torch.float64), y=[0, 1, 1, 0, 2])
    assert d.x.dtype == torch.float32
    assert d.y.dtype == torch.long and d.y.tolist() == [0, 1, 1, 0, 2]


def test_images_are_flattened():
    greys = np.random.default_rng(0).random((3, 4, 5))
    d = as_data(greys)
    assert d.x.shape == (3, 20) and d.image_shape == (1, 4, 5)
    assert np.allclose(d.x[1].numpy(), greys[1].reshape(-1))
    d = as_data(torch.rand(2, 3, 4, 5))
    assert d.x.shape == (2, 60) and d.image_shape == (3, 4, 5)


def test_a_given_image_shape_is_checked_against_the_features():
    x = torch.rand(2, 20)
    assert as_data(Data(x=x, image_shape=(4, 5))).image_shape == (1, 4, 5)  # (H, W): one channel
    assert as_data(Data(x=x, image_shape=[1, 4, 5])).image_shape == (1, 4, 5)
    with pytest.raises(ValueError, match=r"holds 24 values per sample but the features have 20"):
        as_data(Data(x=x, image_shape=(4, 6)))
    for bad in ((20,), (1, 1, 4, 5), (0, 4, 5), "4x5"):
        with pytest.raises(ValueError, match="image_shape must be"):
            as_data(Data(x=x, image_shape=bad))


def test_scipy_sparse_is_densified():
    m = sp.random(6, 4, density=0.5, format="csr", random_state=0)
    d = as_data(m)
    assert np.allclose(d.x.numpy(), m.toarray())


def test_tuples():
    x = np.zeros((3, 2))
    d = as_data((x, np.array([[0, 1], [1, 2]])))
    assert d.edge_index.dtype == torch.long and d.edge_index.tolist() == [[0, 1], [1, 2]]
    assert d.edge_weight is None
    d = as_data((x, torch.tensor([[0, 1], [1, 2]]), [0.5, 2.0]))
    assert d.edge_weight.dtype == torch.float32 and d.edge_weight.tolist() == [0.5, 2.0]


def test_pyg_data_is_copied_and_y_argument_wins():
    src = Data(x=torch.ones(3, 2, dtype=torch.float64), edge_index=torch.tensor([[0, 1], [1, 0]]),
               edge_attr=torch.tensor([3.0, 3.0]), y=torch.tensor([0, 0, 1]), name="toy",
               graph_recipe={"n_neighbors": 2})
    d = as_data(src, y=np.array([2, 2, 2]))
    assert d.name == "toy" and d.graph_recipe == {"n_neighbors": 2}
    assert d.y.tolist() == [2, 2, 2]
    assert d.edge_weight.tolist() == [3.0, 3.0]
    assert d.x.dtype == torch.float32 and src.x.dtype == torch.float64  # input untouched
    assert as_data(src).y.tolist() == [0, 0, 1]


def test_networkx_x_attribute_and_relabelling():
    g = nx.Graph()
    g.add_node("c", x=[1.0, 2.0], y=1)
    g.add_node("a", x=[3.0, 4.0], y=0)
    g.add_node("b", x=[5.0, 6.0], y=0)
    g.add_edge("c", "a", weight=2.0)
    g.add_edge("a", "b", weight=1.0)
    d = as_data(g)
    assert d.x.tolist() == [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]  # G.nodes order: c, a, b -> 0, 1, 2
    assert d.y.tolist() == [1, 0, 0]
    pairs = {(i, j): w for (i, j), w in zip(d.edge_index.t().tolist(), d.edge_weight.tolist())}
    assert pairs == {(0, 1): 2.0, (1, 2): 1.0, (1, 0): 2.0, (2, 1): 1.0}


def test_networkx_numeric_attributes_and_digraph():
    g = nx.DiGraph()
    g.add_node(0, b=2.0, a=1, name="skip", y=0)
    g.add_node(1, b=4.0, a=3, name="skip", y=1)
    g.add_edge(0, 1)
    d = as_data(g)
    assert d.x.tolist() == [[1.0, 2.0], [3.0, 4.0]]  # sorted attribute names a, b; 'y' and strings left out
    assert d.edge_index.tolist() == [[0], [1]] and d.edge_weight is None


@pytest.mark.parametrize("bad", [[[1.0, 2.0]], "x", {"x": 1}, 3.0, None])
def test_unsupported_type(bad):
    with pytest.raises(TypeError, match="unsupported input type"):
        as_data(bad)


@pytest.mark.parametrize(
    "x, message",
    [
        (np.array([[1.0, np.nan]]), "NaN"),
        (np.array([[1.0, np.inf]]), "inf"),
        (np.zeros(4), "ndim=1"),
        (np.zeros((1, 1, 1, 1, 1)), "ndim=5"),
        (np.zeros((0, 3)), "zero samples"),
        (np.zeros((3, 0)), "zero features"),
    ],
)
def test_bad_features(x, message):
    with pytest.raises(ValueError, match=message):
        as_data(x)


@pytest.mark.parametrize(
    "edge_index, message",
    [
        (np.array([[0, 1, 2]]), r"shape \[2, E\]"),
        (np.array([[0, 1], [1, 2], [2, 0]]), r"shape \[2, E\]"),
        (np.array([[0, 3], [1, 0]]), "node index 3, outside"),
        (np.array([[0, -1], [1, 0]]), "node index -1, outside"),
        (np.array([[0.0, 1.0], [1.0, 0.0]]), "integers"),
    ],
)
def test_bad_edge_index(edge_index, message):
    with pytest.raises(ValueError, match=message):
        as_data((np.zeros((3, 2)), edge_index))


@pytest.mark.parametrize(
    "weight, message",
    [([1.0, -0.5], "non-negative"), ([1.0, np.nan], "NaN"), ([1.0], r"shape \[E\] with E=2")],
)
def test_bad_edge_weight(weight, message):
    with pytest.raises(ValueError, match=message):
        as_data((np.zeros((3, 2)), np.array([[0, 1], [1, 0]]), weight))


def test_bad_labels_and_tuples():
    with pytest.raises(ValueError, match="y has length 2, expected one label per node/sample, N=3"):
        as_data(np.zeros((3, 2)), y=[0, 1])
    with pytest.raises(ValueError, match="non-integer"):
        as_data(np.zeros((2, 2)), y=[0.5, 1.0])
    with pytest.raises(ValueError, match="tuple of length 4"):
        as_data((np.zeros((2, 2)), None, None, None))
    with pytest.raises(ValueError, match="no node features"):
        as_data(Data(edge_index=torch.tensor([[0], [1]])))
    g = nx.path_graph(3)
    with pytest.raises(ValueError, match="no node features"):
        as_data(g)


def test_validate_graph():
    validate_graph(torch.tensor([[0, 1], [1, 0]]), 2)
    with pytest.raises(ValueError, match="graph has no edges"):
        validate_graph(None, 3)
    with pytest.raises(ValueError, match="graph has no edges"):
        validate_graph(torch.zeros(2, 0, dtype=torch.long), 3)
    with pytest.raises(ValueError, match="outside"):
        validate_graph(torch.tensor([[0], [5]]), 3)
