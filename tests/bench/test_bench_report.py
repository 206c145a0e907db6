"""The Markdown report: its environment section on runs made on more than one device."""
from __future__ import annotations

from graphclust.bench.aggregate import summarise
from graphclust.bench.report import write_report


def _run(seed: int, time_s: float, device: dict) -> dict:
    return {"dataset": "mnist", "method": "sddecc", "seed": seed, "params_hash": "h", "params": {}, "status": "ok",
            "time_s": time_s, "metrics": {"acc": 0.8}, "history": [], "device": device,
            "versions": {"torch": "2.13.0"}}


def test_recorded_compute_is_given_per_device_where_runs_span_devices(tmp_path):
    gpu = {"device": "cuda", "gpu": "NVIDIA H200"}
    records = [_run(0, 1800.0, gpu), _run(1, 660.0, gpu), _run(2, 7200.0, {"device": "cpu"})]
    path = write_report(tmp_path / "bench.md", rows=summarise(records), records=records, grid=None, figures={},
                        tables=(tmp_path / "t.md", tmp_path / "t.csv"), jsonl=tmp_path / "bench.jsonl")
    text = path.read_text()
    assert "- 2 runs — torch 2.13.0; device: cuda, gpu: NVIDIA H200" in text
    assert "- 1 run — torch 2.13.0; device: cpu" in text
    assert "- Recorded compute: 41.0 min on NVIDIA H200, 2.0 h on the CPU (sum of *s / run*;" in text

    cpu_only = records[2:]
    path = write_report(tmp_path / "cpu.md", rows=summarise(cpu_only), records=cpu_only, grid=None, figures={},
                        tables=(tmp_path / "t.md", tmp_path / "t.csv"), jsonl=tmp_path / "bench.jsonl")
    assert "- Recorded compute: 2.0 h (sum of *s / run*;" in path.read_text()
