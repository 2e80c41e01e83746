"""Exercise mode (`mlp.exercises`), over the whole catalogue: every skeleton imports and
is 'not implemented', every reference passes, every planted mistake fails with its own
hint, packs round-trip, and the `mlp exercise` command works end to end."""

from __future__ import annotations

import json
import os
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import mlp
from mlp import layers
from mlp.cli import main
from mlp.exercises import (
    EXERCISES,
    PACK_FORMAT_VERSION,
    CheckReport,
    PackError,
    check,
    exercise,
    grade,
    write_pack,
    write_skeletons,
)
from mlp.exercises.catalogue import exercises
from mlp.exercises.command import load_student_file

NAMES = list(EXERCISES)
MISTAKES = [
    pytest.param(name, mistake, id=f"{name}-{mistake.name}")
    for name, entry in EXERCISES.items()
    for mistake in entry.mistakes
]


def method_report(report: CheckReport, method: str):
    return next(m for m in report.methods if m.name == method)


# --- the catalogue --------------------------------------------------------------------


def test_the_layer_exercises_start_with_a_small_case_then_random_large_and_zeros():
    for name in NAMES[:7]:
        labels = [case.label for case in EXERCISES[name].cases(np.random.default_rng(0))]
        assert labels[:2] == ["small", "random"] and {"large magnitudes", "zeros"} <= set(labels)


def test_the_catalogue_lists_the_layer_exercises_first_with_unique_names():
    assert NAMES[:7] == ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "softmax", "affine"]
    assert len(set(NAMES)) == len(NAMES)
    assert len({entry.class_name for entry in EXERCISES.values()}) == len(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_every_exercise_has_mistakes_for_its_methods_and_hand_readable_cases_first(name):
    entry = EXERCISES[name]
    methods = [method.name for method in entry.methods]
    assert entry.mistakes, f"{name} has no known mistakes"
    assert {mistake.method for mistake in entry.mistakes} <= set(methods)
    assert len({mistake.name for mistake in entry.mistakes}) == len(entry.mistakes)
    cases = entry.cases(np.random.default_rng(0))
    assert len(cases) >= 2 and len({case.label for case in cases}) == len(cases)


def test_an_unknown_name_lists_the_exercises():
    with pytest.raises(ValueError, match="the exercises are: sigmoid, tanh"):
        exercise("tahn")
    with pytest.raises(TypeError, match="name must be a str"):
        exercise(3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least one"):
        exercises([])
    with pytest.raises(ValueError, match="repeat"):
        exercises(["tanh", "tanh"])


# --- skeletons, references, mistakes ----------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_the_skeleton_imports_and_its_check_says_not_implemented(name, tmp_path):
    path = write_skeletons([name], tmp_path, module_name=f"student_{name}")
    module = load_student_file(path)
    report = check(getattr(module, EXERCISES[name].class_name))
    assert not report.passed
    assert all(method.status == "not implemented" for method in report.methods)
    assert "not implemented" in str(report)


@pytest.mark.parametrize("name", NAMES)
def test_the_reference_passes(name):
    report = check(EXERCISES[name].reference)
    assert report.passed, str(report)
    assert set(report.marks().values()) == {1.0}
    assert "WRONG" not in str(report)


@pytest.mark.parametrize(("name", "mistake"), MISTAKES)
def test_a_planted_mistake_fails_and_gets_its_own_hint(name, mistake):
    report = check(mistake.planted, name)
    assert not report.passed
    wrong = method_report(report, mistake.method)
    assert wrong.status == "WRONG", str(report)
    assert mistake.hint in wrong.hints, str(report)
    for other in report.methods:  # a mistake in one method leaves the others right
        if other.name != mistake.method and mistake.method != "fprop":
            assert other.passed, str(report)


def test_a_report_shows_the_first_wrong_entry_with_its_inputs_and_hint():
    planted = next(m for m in EXERCISES["tanh"].mistakes if m.name == "inputs-for-outputs")
    text = str(check(planted.planted, "tanh"))
    assert "case 'small': first wrong entry: result[0, 0]" in text
    assert "where inputs = -2, outputs = -0.964028, grads_wrt_outputs = 1" in text
    assert "expected 0.0706508, received -3" in text
    assert "hint: bprop computed 1 - x**2 from the inputs" in text
    assert "gradient check     WRONG" in text


def test_in_place_modification_is_caught_by_comparing_the_inputs():
    class TanhLayer(layers.Layer):
        def fprop(self, inputs):
            return np.tanh(inputs, out=inputs)

        def bprop(self, inputs, outputs, grads_wrt_outputs):
            return grads_wrt_outputs * (1 - outputs**2)

    report = check(TanhLayer)
    fprop = method_report(report, "fprop")
    # Only the zeros case comes out unchanged: tanh(0) = 0.
    assert fprop.right == 1 and "changed 'inputs' in place" in fprop.first_failure.detail
    assert any("wrote its results into the inputs" in hint for hint in fprop.hints)


def test_an_exception_is_reported_with_its_message_and_no_traceback():
    class ReluLayer(layers.Layer):
        def fprop(self, inputs):
            return np.maximum(inputs, 0)

        def bprop(self, inputs, outputs, grads_wrt_outputs):
            raise ValueError("shapes do not fit")

    report = check(ReluLayer)
    text = str(report)
    assert "raised ValueError: shapes do not fit" in text and "Traceback" not in text
    assert method_report(report, "fprop").passed
    assert report.gradient is not None and not report.gradient.passed


def test_the_report_renders_as_an_html_table_and_gives_marks():
    planted = next(m for m in EXERCISES["affine"].mistakes if m.name == "divided-by-batch-size")
    report = check(planted.planted, "affine")
    html = report._repr_html_()
    assert html.startswith("<table>") and "grads_wrt_params" in html and "hint:" in html
    marks = report.marks()
    assert marks["fprop"] == marks["bprop"] == 1.0 and marks["grads_wrt_params"] < 1.0


def test_check_refuses_instances_unknown_classes_and_bad_exercises():
    with pytest.raises(TypeError, match=r"pass TanhLayer, not TanhLayer\(\)"):
        check(layers.TanhLayer())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no exercise has a class named 'Tanh'"):
        check(type("Tanh", (layers.Layer,), {}))
    with pytest.raises(ValueError, match="no exercise named 'nope'"):
        check(layers.TanhLayer, "nope")
    with pytest.raises(TypeError, match="exercise must be an Exercise"):
        check(layers.TanhLayer, 3)  # type: ignore[arg-type]


def test_a_student_class_plugs_into_a_model_and_an_optimiser_step():
    from mlp.errors import CrossEntropySoftmaxError
    from mlp.learning_rules import GradientDescentLearningRule
    from mlp.models import MultipleLayerModel

    class TanhLayer(layers.Layer):
        def fprop(self, inputs):
            return np.tanh(inputs)

        def bprop(self, inputs, outputs, grads_wrt_outputs):
            return grads_wrt_outputs * (1 - outputs**2)

    assert check(TanhLayer).passed
    model = MultipleLayerModel([layers.AffineLayer(4, 3), TanhLayer(), layers.AffineLayer(3, 2)])
    x, targets = np.random.default_rng(0).normal(size=(5, 4)), np.eye(2)[[0, 1, 0, 1, 1]]
    error = CrossEntropySoftmaxError()
    outputs = model.fprop(x)
    grads = model.grads_wrt_params(outputs, error.grad(outputs[-1], targets))
    rule = GradientDescentLearningRule(0.1)
    rule.initialise(model.params)
    rule.update_params(grads)
    assert error(model.fprop(x)[-1], targets) < error(outputs[-1], targets)


# --- skeletons ------------------------------------------------------------------------


def test_write_skeletons_writes_one_module_with_the_imports_once(tmp_path):
    path = write_skeletons(["tanh", "relu", "affine"], tmp_path)
    assert path == tmp_path / "my_layers.py"
    source = path.read_text()
    assert source.count("import numpy as np") == 1
    assert "class TanhLayer(Layer)" in source and "class AffineLayer(LayerWithParameters)" in source
    module = load_student_file(path)
    assert issubclass(module.ReluLayer, layers.Layer)


def test_write_skeletons_refuses_to_overwrite_unless_asked(tmp_path):
    path = write_skeletons(["tanh"], tmp_path)
    path.write_text("# my work\n")
    with pytest.raises(FileExistsError, match="not overwriting"):
        write_skeletons(["tanh"], tmp_path)
    assert path.read_text() == "# my work\n"
    write_skeletons(["tanh"], tmp_path, overwrite=True)
    assert "class TanhLayer" in path.read_text()
    with pytest.raises(ValueError, match="identifier"):
        write_skeletons(["tanh"], tmp_path, module_name="my-layers.py")


# --- packs and grades -------------------------------------------------------------------


@pytest.fixture(scope="module")
def pack_of_all(tmp_path_factory) -> Path:
    return write_pack(NAMES, tmp_path_factory.mktemp("pack") / "all.npz", seed=1234)


def test_the_reference_gets_full_marks_from_a_pack(pack_of_all):
    result = grade(pack_of_all, [entry.reference for entry in EXERCISES.values()])
    assert result.total == 1.0 and not result.missing
    body = json.loads(result.to_json())
    assert body["seed"] == 1234 and body["total"] == 1.0
    assert set(body["exercises"]) == set(NAMES)


@pytest.mark.parametrize(("name", "mistake"), MISTAKES)
def test_a_planted_mistake_loses_the_marks_of_its_method_only(name, mistake, pack_of_all):
    entry = EXERCISES[name]
    marks = grade(pack_of_all, {entry.class_name: mistake.planted}).marks[name]
    for method, (right, cases) in marks.items():
        if method == mistake.method:
            assert right < cases
        else:
            assert right == cases, (method, right, cases)


def test_grading_reads_the_expected_results_from_the_pack(tmp_path, monkeypatch):
    path = write_pack(["tanh"], tmp_path / "tanh.npz", seed=5)

    class TanhLayer(layers.Layer):  # a right answer that does not use mlp's TanhLayer
        def fprop(self, inputs):
            return np.tanh(inputs)

        def bprop(self, inputs, outputs, grads_wrt_outputs):
            return grads_wrt_outputs * (1 - outputs**2)

    # The reference changes after the pack was made: the pack still marks as it did.
    monkeypatch.setattr(layers.TanhLayer, "fprop", lambda self, x: 2 * np.tanh(x))
    assert grade(path, TanhLayer).total == 1.0
    assert grade(path, layers.TanhLayer).marks["tanh"]["fprop"][0] == 1  # zeros: 2 * 0 == 0


def test_different_seeds_give_different_random_cases(tmp_path):
    first = np.load(write_pack(["relu"], tmp_path / "a.npz", seed=1))
    second = np.load(write_pack(["relu"], tmp_path / "b.npz", seed=2))
    again = np.load(write_pack(["relu"], tmp_path / "c.npz", seed=1))
    key = "relu/1/array/inputs"
    assert str(first["relu/1/label"]) == "random"
    assert not np.array_equal(first[key], second[key])
    assert np.array_equal(first[key], again[key])
    assert int(first["format_version"]) == PACK_FORMAT_VERSION


def test_a_missing_class_gets_no_marks(tmp_path):
    path = write_pack(["tanh", "relu"], tmp_path / "p.npz", seed=0)
    result = grade(path, [layers.TanhLayer])
    assert result.missing == ("relu",)
    assert result.marks["relu"]["fprop"][0] == 0 and result.marks["tanh"]["fprop"][0] > 0


def test_corrupt_foreign_and_future_packs_are_refused_naming_the_file(tmp_path):
    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_bytes(b"PK\x03\x04 not really a zip")
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, x=np.arange(3))
    future = tmp_path / "future.npz"
    np.savez(future, format_version=np.array(PACK_FORMAT_VERSION + 1), exercises=np.array(["tanh"]))
    text = tmp_path / "text.npz"
    text.write_text("hello")
    for path in (corrupt, foreign, future, text):
        with pytest.raises(PackError, match=str(path.name)):
            grade(path, [layers.TanhLayer])
    truncated = tmp_path / "truncated.npz"
    np.savez(truncated, format_version=np.array(1), exercises=np.array(["tanh"]))
    with pytest.raises(PackError, match="damaged"):
        grade(truncated, [layers.TanhLayer])


def test_packs_refuse_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="seed"):
        write_pack(["tanh"], tmp_path / "p.npz", seed=-1)
    with pytest.raises(ValueError, match="no exercise"):
        write_pack(["tahn"], tmp_path / "p.npz", seed=1)
    with pytest.raises(TypeError, match="module, a class"):
        grade(tmp_path / "p.npz", 42)


# --- the command ----------------------------------------------------------------------


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    try:
        status = main(args)
    except SystemExit as exit:
        status = exit.code
    out, err = capsys.readouterr()
    return int(status or 0), out, err


SOLUTION = textwrap.dedent(
    """
    import numpy as np
    from mlp.layers import Layer


    class TanhLayer(Layer):
        keeps_shape = True

        def fprop(self, inputs):
            return np.tanh(inputs)

        def bprop(self, inputs, outputs, grads_wrt_outputs):
            return grads_wrt_outputs * (1 - outputs**2)


    class ReluLayer(Layer):
        keeps_shape = True

        def fprop(self, inputs):
            return np.maximum(inputs, 0)

        def bprop(self, inputs, outputs, grads_wrt_outputs):
            return grads_wrt_outputs * (inputs >= 0)
    """
)


def test_the_command_starts_checks_packs_and_grades(tmp_path, capsys):
    status, out, _ = run_cli(["exercise", "list"], capsys)
    assert status == 0 and "tanh" in out and "TanhLayer" in out
    status, out, _ = run_cli(["exercise", "start", "tanh", "relu", "--out", str(tmp_path)], capsys)
    skeleton = tmp_path / "my_layers.py"
    assert status == 0 and skeleton.exists()
    status, out, _ = run_cli(["exercise", "check", str(skeleton)], capsys)
    assert status == 1 and out.count("not implemented") >= 4
    solution = tmp_path / "solution.py"
    solution.write_text(SOLUTION)
    status, out, _ = run_cli(["exercise", "check", f"{solution}:TanhLayer"], capsys)
    assert status == 0 and "TanhLayer: all right" in out and "ReluLayer" not in out
    status, out, _ = run_cli(["exercise", "check", str(solution)], capsys)
    assert status == 1 and "hint: bprop let the gradient through where x == 0" in out
    pack = tmp_path / "s1.npz"
    status, out, _ = run_cli(
        ["exercise", "pack", "tanh", "relu", "--seed", "1", "-o", str(pack)], capsys
    )
    assert status == 0 and pack.exists()
    status, out, _ = run_cli(["exercise", "grade", str(pack), str(solution), "--json"], capsys)
    marks = json.loads(out)["exercises"]
    assert status == 0 and marks["tanh"]["methods"]["bprop"]["mark"] == 1.0
    assert marks["relu"]["methods"]["fprop"]["mark"] == 1.0
    assert marks["relu"]["methods"]["bprop"]["mark"] < 1.0
    status, out, _ = run_cli(["exercise", "grade", str(pack), str(solution)], capsys)
    assert status == 0 and "tanh" in out and "total" in out


def test_the_command_reports_bad_files_without_a_traceback(tmp_path, capsys):
    broken = tmp_path / "broken.py"
    broken.write_text("import numpy as np\n\nraise RuntimeError('half-written')\n")
    status, _, err = run_cli(["exercise", "check", str(broken)], capsys)
    assert status == 2 and "line 3: RuntimeError: half-written" in err and "Traceback" not in err
    syntax = tmp_path / "syntax.py"
    syntax.write_text("class TanhLayer(:\n")
    status, _, err = run_cli(["exercise", "check", str(syntax)], capsys)
    assert status == 2 and "line 1: SyntaxError" in err
    empty = tmp_path / "empty.py"
    empty.write_text("x = 1\n")
    status, _, err = run_cli(["exercise", "check", str(empty)], capsys)
    assert status == 2 and "defines none of the exercises' classes" in err
    status, _, err = run_cli(["exercise", "check", f"{empty}:TanhLayer"], capsys)
    assert status == 2 and "no class 'TanhLayer'" in err
    status, _, err = run_cli(["exercise", "start", "tahn", "--out", str(tmp_path)], capsys)
    assert status == 2 and "no exercise named 'tahn'" in err
    status, _, err = run_cli(["exercise", "grade", str(empty), str(empty)], capsys)
    assert status == 2 and "empty.py is not an exercise pack" in err
    run_cli(["exercise", "start", "tanh", "--out", str(tmp_path)], capsys)
    status, _, err = run_cli(["exercise", "start", "tanh", "--out", str(tmp_path)], capsys)
    assert status == 2 and "not overwriting" in err


# --- the student notebook -------------------------------------------------------------

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "exercises.ipynb"


@pytest.mark.slow
@pytest.mark.usefixtures("mnist_dir")
def test_the_student_notebook_runs_with_the_solutions_in_quick_mode(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")

    # A kernel on this interpreter (as tests/test_notebook.py does), quick mode, and
    # mlp's own layers in place of the student's.
    spec_dir = tmp_path / "jupyter" / "kernels" / "mlp-exercises-test"
    spec_dir.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    spec = {"argv": argv, "display_name": "mlp exercises test", "language": "python"}
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("MLP_QUICK", "1")
    monkeypatch.setenv("MLP_EXERCISE_SOLUTIONS", "1")
    # The kernel runs in notebooks/: give it the mlp this process imported, by absolute path
    # (a relative PYTHONPATH=src would point elsewhere there).
    package_root = str(Path(mlp.__file__).resolve().parents[1])
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join([package_root, os.environ.get("PYTHONPATH", "")])
    )
    for threads in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.setenv(threads, "1")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        kernel_name="mlp-exercises-test",
        timeout=300,
        allow_errors=False,
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute()  # raises CellExecutionError, naming the cell, on the first error

    def text(output) -> str:
        data = output.get("data", {})
        return output.get("text", "") + data.get("text/plain", "") + data.get("text/html", "")

    shown = "".join(
        text(out) for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs
    )
    assert "quick mode: True" in shown
    assert "TanhLayer: all right" in shown and "ReluLayer: all right" in shown
    assert "<table>" in shown  # the reports show as tables in Jupyter
    assert "hint: bprop computed 1 - x**2 from the inputs" in shown
    assert "validation accuracy" in shown
