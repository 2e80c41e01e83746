"""The tutorial notebook runs top to bottom, in quick mode, and draws its figures.

The notebook is executed with nbclient in a fresh kernel that runs this interpreter (a
kernelspec written to a temporary folder points at `sys.executable`, so a `python3`
kernel registered elsewhere on the machine cannot be picked up instead), with
`MLP_QUICK=1` so that it trains for a few epochs on a slice of MNIST. MNIST must be in the
data directory or fetchable (skipped with MLP_OFFLINE=1 when it is missing).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("torch")

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "multiple_layer_models.ipynb"
KERNEL_NAME = "mlp-notebook-test"
CELL_TIMEOUT_S = 300
# The diagnostics each draw a figure in the cell that calls them (LivePlot while the
# deepest sigmoid model trains, the others as the cell's value).
FIGURE_CALLS = (
    "LivePlot(",
    "plot_weight_images(",
    "plot_layer_stats(",
    "plot_activation_histograms(",
    "plot_confusion_matrix(",
    "plot_misclassified(",
)


@pytest.fixture
def kernel_for_this_python(tmp_path, monkeypatch):
    """A kernelspec named KERNEL_NAME that starts an ipykernel on `sys.executable`."""
    spec_dir = tmp_path / "jupyter" / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "mlp notebook test",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    return KERNEL_NAME


@pytest.mark.slow
def test_notebook_runs_in_quick_mode_and_draws_figures(
    mnist_dir, kernel_for_this_python, monkeypatch
):
    # The kernel inherits this process's environment (MLP_DATA_DIR included).
    monkeypatch.setenv("MLP_QUICK", "1")
    # One BLAS thread: `pytest -n 2` keeps both cores busy, and multi-threaded BLAS on small
    # matrices next to another busy process runs several times slower, not faster.
    for threads in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.setenv(threads, "1")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    # One extra cell, at the end, reports which interpreter the kernel ran.
    nb.cells.append(nbformat.v4.new_code_cell("import sys; print('KERNEL ' + sys.executable)"))
    client = nbclient.NotebookClient(
        nb,
        kernel_name=kernel_for_this_python,
        timeout=CELL_TIMEOUT_S,
        allow_errors=False,
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute()  # raises CellExecutionError, naming the cell, on the first error

    *code_cells, probe = [cell for cell in nb.cells if cell.cell_type == "code"]
    kernel_python = "".join(out.get("text", "") for out in probe.outputs).split("KERNEL ")[-1]
    assert os.path.realpath(kernel_python.strip()) == os.path.realpath(sys.executable)

    assert code_cells, "the notebook has no code cells"
    for index, cell in enumerate(code_cells):
        assert cell.execution_count is not None, f"code cell {index} did not run"
        errors = [out for out in cell.outputs if out.output_type == "error"]
        assert not errors, f"code cell {index} raised {errors[0].ename}: {errors[0].evalue}"

    images = [out for cell in code_cells for out in _images(cell)]
    assert len(images) >= 12, f"expected the notebook's figures, got {len(images)} images"
    for call in FIGURE_CALLS:
        drawing = [cell for cell in code_cells if call in cell.source]
        assert drawing, f"no code cell calls {call}"
        for cell in drawing:
            assert _images(cell), f"the cell calling {call} shows no image:\n{cell.source}"

    outputs_text = "".join(
        out.get("text", "") for cell in code_cells for out in cell.outputs if "text" in out
    )
    assert "quick mode: True" in outputs_text, "the kernel did not see MLP_QUICK=1"
    # The vanishing-gradient cell prints one line of ratios per sigmoid depth.
    assert "last-layer / first-layer gradient norm" in outputs_text
    assert outputs_text.count("affine layers (sigmoid)  0:") == 3, "expected 3 depths' ratios"


def _images(cell):
    """The PNG outputs of a code cell (shown with display() or as its last value)."""
    return [
        out
        for out in cell.outputs
        if out.output_type in ("display_data", "execute_result") and "image/png" in out.data
    ]
