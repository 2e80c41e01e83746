"""The benchmark's cost models, table and arguments (its timings are not tested: they
belong to `make bench`, not to the test suite)."""

from __future__ import annotations

import pytest

from benchmarks import hardware, run
from benchmarks.workloads import WORKLOADS, bytes_per_epoch, flops_per_epoch


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


def test_table_gives_ratios_of_the_medians() -> None:
    results = {
        "sgemm_flops": 1e11,
        "memory_bandwidth": 1e10,
        "num_examples": 50_000,
        "workloads": {
            "W4": {
                "median": {"mlp": 2.0, "torch": 2.5, "mlp_numpy_updates": 2.6},
                "mlp_peak_memory": [700 * 2**20, 770 * 2**20],
            }
        },
    }
    (row,) = [line for line in run.table(results).splitlines() if line.startswith("| W4")]
    cells = [c.strip() for c in row.strip("|").split("|")]
    flop_bound = flops_per_epoch(WORKLOADS["W4"], 50_000) / 1e11
    assert cells[1:6] == ["2.000", "2.500", "-", "0.80", "2.600"]
    assert cells[6] == f"{flop_bound:.3f}" and cells[7] == f"{2.0 / flop_bound:.1f}"
    assert cells[-1] == "770"


@pytest.mark.parametrize(
    ("argv", "message"),
    [(["--workloads", "W2,W9"], "unknown workloads ['W9']"), (["--epochs", "0"], ">= 1")],
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
