import math

import pytest
import torch

from graphclust.graphs import GraphReport, graph_report

# 0 - 1 - 2 (both directions), a self-loop on 3, node 4 alone; labels 0 0 1 1 1.
EDGES = torch.tensor([[0, 1, 1, 2, 3], [1, 0, 2, 1, 3]])
LABELS = torch.tensor([0, 0, 1, 1, 1])


def test_hand_made_graph():
    r = graph_report(EDGES, 5, y=LABELS)
    assert isinstance(r, GraphReport)
    assert r.n_nodes == 5
    assert r.n_directed_edges == 5 and r.n_edges == 3  # {0,1}, {1,2}, (3,3)
    assert r.self_loops == 1 and r.is_symmetric
    assert r.n_isolated == 2  # node 3 has only itself, node 4 nothing
    assert (r.degree_min, r.degree_max, r.degree_mean, r.degree_median) == (0, 2, 0.8, 1.0)
    assert r.n_components == 3
    assert r.edge_homophily == 0.5  # 0-1 same label, 1-2 different


def test_directed_duplicates_and_weights():
    r = graph_report(torch.tensor([[0, 0, 1], [1, 1, 2]]), 3)
    assert not r.is_symmetric and r.n_directed_edges == 2 and r.n_edges == 2
    assert r.edge_homophily is None
    assert r.degree_max == 2  # the undirected view: node 1 touches 0 and 2
    sym = torch.tensor([[0, 1], [1, 0]])
    assert graph_report(sym, 2, edge_weight=torch.tensor([1.0, 1.0])).is_symmetric
    assert not graph_report(sym, 2, edge_weight=torch.tensor([1.0, 2.0])).is_symmetric


def test_no_edges_and_str():
    r = graph_report(torch.zeros(2, 0, dtype=torch.long), 3, y=[0, 1, 2])
    assert r.n_edges == 0 and r.n_isolated == 3 and math.isnan(r.edge_homophily)
    text = str(graph_report(EDGES, 5, y=LABELS))
    assert "5 nodes" in text and "3 edges" in text and "edge homophily: 0.5000" in text
    assert "homophily" not in str(graph_report(EDGES, 5))
    assert graph_report(EDGES, 5).to_dict()["n_edges"] == 3


def test_errors():
    with pytest.raises(ValueError, match="y has length 2, expected one label per node/sample, N=5"):
        graph_report(EDGES, 5, y=[0, 1])
    with pytest.raises(ValueError, match="outside"):
        graph_report(EDGES, 3)
    with pytest.raises(ValueError, match="n=0 should be an integer >= 1"):
        graph_report(EDGES, 0)
