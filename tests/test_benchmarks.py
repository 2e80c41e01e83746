"""The benchmark's cost models, table and arguments (its timings are not tested: they
belong to `make bench`, not to the test suite)."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import hardware, run
from benchmarks.workloads import WORKLOADS, build_mlp, bytes_per_epoch, flops_per_epoch


def test_flop_model_counts_forward_weight_and_input_gradient_products() -> None:
    # 784-100-100-10: the first layer has no input gradient (2 products), the others 3.
    macs_per_example = 2 * 784 * 100 + 3 * 100 * 100 + 3 * 100 * 10
    assert flops_per_epoch(WORKLOADS["W2"], 50_000) == 2 * macs_per_example * 50_000
    # Only whole batches count: 50,000 // 256 = 195 batches for W4.
    w4 = WORKLOADS["W4"]
    per_batch = 2 * 256 * (2 * 784 * 1024 + 3 * 1024 * 1024 + 3 * 1024 * 10)
    assert flops_per_epoch(w4, 50_000) == per_batch * 195


def test_memory_model_counts_inputs_weights_and_the_rules_passes() -> None:
    w4 = WORKLOADS["W4"]
    params = 784 * 1024 + 1024 + 1024 * 1024 + 1024 + 1024 * 10 + 10
    assert w4.num_params == params
    # Inputs once; weights read twice, gradients written once, Adam 7 passes (4 B each).
    per_step = 4 * 256 * 784 + 4 * params * (2 + 1 + 7)
    assert bytes_per_epoch(w4, 50_000) == per_step * 195
    sgd_step = 4 * 100 * 784 + 4 * WORKLOADS["W1"].num_params * (2 + 1 + 3)
    assert bytes_per_epoch(WORKLOADS["W1"], 50_000) == sgd_step * 500


def _results() -> dict:
    seconds = {"mlp": [2.0, 2.2, 1.8], "torch": [2.5, 2.5, 2.5], "jax_scan": [2.0, 2.0, 3.0]}
    return {
        "sgemm_flops": 1e11,
        "memory_bandwidth": 1e10,
        "num_examples": 50_000,
        "workloads": {
            "W4": {
                "seconds": {**seconds, "mlp_products": [1.0, 1.1, 0.9]},
                "median": {"mlp": 2.0, "torch": 2.5, "jax_scan": 2.0, "mlp_products": 1.0},
                "mlp_peak_memory": [700 * 2**20, 770 * 2**20],
                "loaded_seconds": {"mlp": [3.0, 3.0, 3.3], "torch": [5.0, 5.0, 5.0]},
                "loaded_median": {"mlp": 3.0, "torch": 5.0},
                "rival_share": {"mlp": 0.5, "torch": 0.25},
                "breakdown": {
                    "products": 1.0,
                    "elementwise": 0.5,
                    "update": 0.25,
                    "data": 0.15,
                    "other": 0.1,
                    "total": 2.0,
                },
            }
        },
    }


def _cells(text: str, name: str = "W4") -> list[str]:
    (row,) = [line for line in text.splitlines() if line.startswith(f"| {name}")]
    return [c.strip() for c in row.strip("|").split("|")]


def test_a_ratio_is_the_ratio_of_medians_with_the_round_by_round_spread() -> None:
    assert run.ratio([2.0, 2.2, 1.8], [2.0, 2.0, 3.0]) == "1.00 [0.60-1.10]"
    assert run.ratio([1.0], None) == "-" and run.ratio(None, [1.0]) == "-"


def test_table_gives_ratios_of_the_medians_and_their_spread() -> None:
    cells = _cells(run.table(_results()))
    flop_bound = flops_per_epoch(WORKLOADS["W4"], 50_000) / 1e11
    assert cells[1:5] == ["2.000", "2.500", "2.000", "-"]  # mlp, torch, JAX scan, JAX step
    assert cells[5] == "1.00 [0.60-1.10]" and cells[6] == "-"  # mlp/JAX scan, mlp/JAX step
    assert cells[7] == "0.80 [0.72-0.88]"  # mlp/torch
    assert cells[8:10] == ["1.000", "2.00 [2.00-2.00]"]  # products alone, mlp/products
    assert cells[10] == f"{flop_bound:.3f}" and cells[11] == f"{2.0 / flop_bound:.1f}"
    assert cells[-1] == "770"


def test_loaded_table_gives_loaded_over_quiet_and_the_competitor_s_share() -> None:
    cells = _cells(run.loaded_table(_results()))
    assert cells[1] == "3.000"
    assert cells[2] == "1.50 [1.36-1.83]"  # mlp loaded/quiet, round by round
    assert cells[3] == "2.00 [2.00-2.00]"  # torch loaded/quiet
    assert cells[4] == "-"  # JAX not measured loaded here
    assert cells[6] == "0.60 [0.60-0.66]"  # loaded mlp/torch
    assert cells[7] == "0.50 / 0.25 / -"


def test_breakdown_table_gives_seconds_and_shares() -> None:
    cells = _cells(run.breakdown_table(_results()))
    assert cells[1:] == [
        "1.000 (50%)",
        "0.500 (25%)",
        "0.250 (12%)",
        "0.150 (8%)",
        "0.100 (5%)",
        "2.000",
    ]


def test_breakdown_accounts_for_the_epoch_and_restores_what_it_timed() -> None:
    from benchmarks.breakdown import KINDS, breakdown
    from mlp._fast import dense, threads

    rng = np.random.default_rng(0)
    inputs, labels = rng.random((2000, 784), dtype=np.float32), rng.integers(10, size=2000)
    optimiser = build_mlp(WORKLOADS["W3"], inputs, labels)
    matmul = threads.matmul
    times = breakdown(optimiser)
    assert threads.matmul is matmul and "_activate" in vars(dense)
    assert all(times[k] >= 0 for k in KINDS) and times["products"] > 0
    assert times["update"] > 0 and times["data"] > 0
    assert sum(times[k] for k in KINDS) == pytest.approx(times["total"])


def test_the_products_alone_do_the_step_s_products() -> None:
    from benchmarks.workloads import build_products_alone
    from mlp._fast import threads

    shapes = []
    original = threads.matmul

    def recording(a, b, out):
        shapes.append((a.shape, b.shape))
        return original(a, b, out=out)

    threads.matmul = recording
    try:
        build_products_alone(WORKLOADS["W2"], 100)()
    finally:
        threads.matmul = original
    # one batch: 3 forward products, 3 weight gradients, 2 input gradients (none for x)
    assert shapes == [
        ((100, 784), (784, 100)),
        ((100, 100), (100, 100)),
        ((100, 100), (100, 10)),
        ((10, 100), (100, 100)),
        ((100, 10), (10, 100)),
        ((100, 100), (100, 100)),
        ((100, 100), (100, 100)),
        ((100, 100), (100, 784)),
    ]


def test_the_competitor_counts_its_work_and_stops() -> None:
    from benchmarks.contention import Competitor, competitors_for

    assert competitors_for(2) == 1 and competitors_for(16) == 15 and competitors_for(None) == 1
    with Competitor(processes=1) as rival:
        assert rival.rate(0.3) > 0
        procs = list(rival._procs)
    assert not any(proc.is_alive() for proc in procs)


def test_the_jax_loops_train() -> None:
    pytest.importorskip("jax")
    from benchmarks import jax_loops

    rng = np.random.default_rng(0)
    inputs, labels = rng.random((512, 784), dtype=np.float32), rng.integers(10, size=512)
    for build in (jax_loops.build_jax_scan, jax_loops.build_jax_step):
        epoch = build(WORKLOADS["W3"].with_(batch_size=128), inputs, labels)
        epoch()
        epoch()


@pytest.mark.parametrize(
    ("argv", "message"),
    [(["--workloads", "W2,W9"], "unknown workloads ['W9']"), (["--rounds", "0"], ">= 1")],
)
def test_bad_arguments_are_refused_before_anything_runs(argv, message, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        run.main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_peak_memory_is_read_and_reset_on_linux() -> None:
    if not hardware.reset_peak_memory():
        pytest.skip("no /proc/self/clear_refs here")
    peak = hardware.peak_memory()
    assert peak is not None and peak > 10 * 2**20


def test_the_cnn_workload_s_models_count_its_convolutions() -> None:
    from benchmarks.workloads import conv_layers

    w5 = WORKLOADS["W5"]
    # 16 5x5 kernels on 24x24 outputs, then 32 of 16x5x5 on 8x8; flat features 32*4*4.
    assert conv_layers(w5) == [(1, 400, 16, 576), (16, 12_800, 32, 64)]
    assert w5.dims == [512, 128, 10]
    assert w5.num_params == 400 + 16 + 12_800 + 32 + 512 * 128 + 128 + 128 * 10 + 10
    # The first convolution needs no input gradient (2 products), the rest 3.
    macs = 2 * 400 * 576 + 3 * 12_800 * 64 + 3 * 512 * 128 + 3 * 128 * 10
    assert flops_per_epoch(w5, 50_000) == 2 * macs * 50_000
    assert w5.describe().startswith("CNN conv:16x5,pool:2,conv:32x5,pool:2,fc:128 relu")


def test_the_cnn_workload_trains_in_mlp_and_torch_with_the_same_shapes() -> None:
    pytest.importorskip("torch")
    from benchmarks.workloads import build_torch_dataloader, build_torch_tensor_loop
    from mlp.convolution import ConvolutionalLayer

    rng = np.random.default_rng(0)
    inputs, labels = rng.random((200, 784), dtype=np.float32), rng.integers(10, size=200)
    w5 = WORKLOADS["W5"]
    optimiser = build_mlp(w5, inputs, labels)
    before = [p.copy() for p in optimiser.model.params]
    optimiser.do_training_epoch()
    assert all(
        not np.array_equal(a, b) for a, b in zip(before, optimiser.model.params, strict=True)
    )
    convs = [layer for layer in optimiser.model.layers if isinstance(layer, ConvolutionalLayer)]
    assert [c.kernels.shape for c in convs] == [(16, 1, 5, 5), (32, 16, 5, 5)]
    assert sum(p.size for p in optimiser.model.params) == w5.num_params
    outputs = optimiser.model.fprop(inputs[:3])[-1]
    assert outputs.shape == (3, 10) and np.all(np.isfinite(outputs))
    for build in (build_torch_tensor_loop, build_torch_dataloader):
        build(w5, inputs, labels)()


def test_a_workload_without_a_breakdown_is_left_out_of_its_table() -> None:
    results = _results()
    results["workloads"]["W5"] = {**results["workloads"]["W4"]}
    del results["workloads"]["W5"]["breakdown"]
    assert "| W5 |" not in run.breakdown_table(results)
    assert _cells(run.table(results), "W5")[7] == "0.80 [0.72-0.88]"  # mlp/torch


def test_the_layer_stats_overhead_benchmark_times_both_on_tiny_data() -> None:
    from benchmarks import layer_stats_overhead

    rng = np.random.default_rng(0)
    inputs, labels = rng.random((300, 784), dtype=np.float32), rng.integers(10, size=300)
    times = layer_stats_overhead.measure(inputs, labels, rounds=2)
    assert {key: len(value) for key, value in times.items()} == dict.fromkeys(
        ("plain", "watched", "plain_pass", "watched_pass", "measurement"), 2
    )
    assert all(t > 0 for value in times.values() for t in value)
    text = layer_stats_overhead.report(times)
    assert "with / without LayerStats" in text and "one measurement alone" in text
    assert layer_stats_overhead.ratio([2.0, 3.0], [1.0, 1.0]) == "2.500 [2.000-3.000]"
