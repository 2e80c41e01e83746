"""The seed experiment's shared data (`mlp.seed_experiment`: split, normalisation,
providers) and its NumPy twin (`mlp.twin`).

None of this needs PyTorch; where torch is installed, the normalisation is also checked
against torch's own arithmetic. The short training run uses the real MNIST files: already
in the data directory, or fetched once (skipped with MLP_OFFLINE=1 when they are missing).
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from mlp import DEFAULT_SEED, twin
from mlp import seed_experiment as shared


def test_split_is_seeded_disjoint_and_48k_12k():
    train, valid = shared.seed_split()
    assert train.shape == (48_000,) and valid.shape == (12_000,)
    assert np.intersect1d(train, valid).size == 0
    np.testing.assert_array_equal(np.sort(np.concatenate([train, valid])), np.arange(60_000))
    again_train, again_valid = shared.seed_split(seed=DEFAULT_SEED)
    np.testing.assert_array_equal(train, again_train)
    np.testing.assert_array_equal(valid, again_valid)
    other_train, _ = shared.seed_split(seed=DEFAULT_SEED + 1)
    assert not np.array_equal(train, other_train)


def test_split_draws_from_both_of_mlps_training_files():
    # A permutation of all 60,000, not the last 10,000 (mlp's 'valid' file) plus some.
    _, valid = shared.seed_split()
    from_valid_file = np.count_nonzero(valid >= 50_000)
    assert 1_700 < from_valid_file < 2_300  # about 12,000 / 6


def test_split_fraction_is_checked():
    train, valid = shared.seed_split(valid_fraction=0.25, num_examples=100)
    assert (train.size, valid.size) == (75, 25)
    with pytest.raises(ValueError, match="valid_fraction"):
        shared.seed_split(valid_fraction=1.0)


def test_normalisation_is_torchvisions_to_tensor_then_normalize():
    pixels = np.arange(256)
    mlp_inputs = (pixels / 256).astype(np.float32)[None, :]  # how mlp stores MNIST
    result = shared.normalise(mlp_inputs)
    assert result.dtype == np.float32
    # ToTensor: uint8 -> float32 / 255; Normalize: (x - mean) / std, all in float32.
    expected = (pixels.astype(np.float32) / np.float32(255) - np.float32(0.1307)) / np.float32(
        0.3081
    )
    np.testing.assert_array_equal(result[0], expected)
    assert result[0, 0] == pytest.approx(-0.1307 / 0.3081, rel=1e-6)
    assert result[0, 255] == pytest.approx((1 - 0.1307) / 0.3081, rel=1e-6)


def test_normalisation_equals_torch_bit_for_bit():
    torch = pytest.importorskip("torch")
    pixels = np.arange(256, dtype=np.uint8)
    tensor = torch.from_numpy(pixels).to(torch.float32).div(255)  # torchvision's ToTensor
    mean = torch.as_tensor((0.1307,), dtype=torch.float32)
    std = torch.as_tensor((0.3081,), dtype=torch.float32)
    tensor = tensor.sub_(mean).div_(std)  # torchvision's Normalize
    np.testing.assert_array_equal(shared.normalise(pixels[None, :] / 256)[0], tensor.numpy())


def test_importing_mlp_and_the_twin_does_not_import_torch():
    code = (
        "import sys, mlp, mlp.twin, mlp.seed_experiment, mlp.optimisers, mlp.data_providers\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_numpy_seed_model_uses_pytorchs_default_initialisation():
    from mlp.layers import AffineLayer, ReluLayer

    model = twin.numpy_seed_model()
    assert [type(layer) for layer in model.layers] == [
        AffineLayer,
        ReluLayer,
        AffineLayer,
        ReluLayer,
        AffineLayer,
    ]
    for layer in model.layers[::2]:
        bound = 1 / np.sqrt(layer.input_dim)
        for param in layer.params:
            assert param.dtype == np.float32
            assert np.abs(param).max() <= bound
            assert np.abs(param).max() > 0.9 * bound  # uniform over the whole range
    again = twin.numpy_seed_model()
    for a, b in zip(model.params, again.params, strict=True):
        np.testing.assert_array_equal(a, b)


def test_exact_accuracy_counts_over_every_example_not_batch_means():
    labels = np.array([0, 1, 1, 0, 1])
    inputs = np.eye(2)[[0, 1, 0, 0, 1]]  # predicted class = argmax of the input row
    # Batches of 2: means 1.0, 0.5, 1.0 would average to 0.833; the count gives 4/5.
    assert twin.exact_accuracy(lambda x: x, inputs, labels, batch_size=2) == 0.8


# ------------------------------------------------------------------------------------------
# On the real data
# ------------------------------------------------------------------------------------------


def test_seed_arrays_split_the_60000_training_images(mnist_dir):
    from mlp import datasets

    arrays = shared.seed_arrays(normalise_inputs=False, data_dir=mnist_dir)
    assert {k: v[0].shape for k, v in arrays.items()} == {
        "train": (48_000, 784),
        "valid": (12_000, 784),
        "test": (10_000, 784),
    }
    train_x, train_y = datasets.load("mnist", "train", data_dir=mnist_dir)
    valid_x, valid_y = datasets.load("mnist", "valid", data_dir=mnist_dir)
    all_x, all_y = np.concatenate([train_x, valid_x]), np.concatenate([train_y, valid_y])
    train_idx, valid_idx = shared.seed_split()
    np.testing.assert_array_equal(arrays["valid"][0], all_x[valid_idx])
    np.testing.assert_array_equal(arrays["valid"][1], all_y[valid_idx])
    np.testing.assert_array_equal(arrays["train"][1], all_y[train_idx])
    normalised = shared.seed_arrays(data_dir=mnist_dir)
    np.testing.assert_array_equal(
        normalised["test"][0][:50], shared.normalise(arrays["test"][0][:50])
    )


def test_mnist_providers_serve_the_seeds_batches(mnist_dir):
    train, valid, test = shared.mnist_providers(data_dir=mnist_dir, train_subset_size=1000)
    assert train.num_examples == 1000 and train.batch_size == 128
    assert train.num_batches == 8  # the last, partial batch is kept, as a DataLoader does
    assert (valid.num_examples, test.num_examples) == (12_000, 10_000)
    assert not valid.shuffle_order and not test.shuffle_order
    inputs, targets = next(iter(train))
    assert inputs.shape == (128, 784) and inputs.dtype == np.float32
    assert targets.shape == (128, 10)
    assert abs(float(test.inputs.mean())) < 0.05 and abs(float(test.inputs.std()) - 1) < 0.05


def test_a_short_numpy_twin_run_gives_a_sane_result(mnist_dir):
    seen = []
    result = twin.run_numpy_twin(
        num_epochs=2,
        stats_interval=1,
        train_subset_size=2000,
        on_stats=lambda epoch, stats: seen.append(epoch),
    )
    assert isinstance(result, twin.ExperimentResult)
    assert (result.backend, result.device) == ("numpy", "cpu")
    assert list(result.keys) == ["error(train)", "acc(train)", "error(valid)", "acc(valid)"]
    assert result.stats.shape == (3, 4) and seen == [0, 1, 2]
    assert len(result.epoch_times) == 2 and result.seconds_per_epoch > 0
    assert result.run_time > sum(result.epoch_times)
    assert result.stats[-1, result.keys["acc(valid)"]] > 0.8
    assert 0.8 < result.test_accuracy <= 1
    assert result.test_accuracy * 10_000 == pytest.approx(round(result.test_accuracy * 10_000))
    assert "numpy on cpu" in result.summary()


def test_the_twin_reexports_the_shared_data_and_result():
    for name in ("ExperimentResult", "seed_split", "normalise", "seed_arrays", "mnist_providers"):
        assert getattr(twin, name) is getattr(shared, name)


def test_the_subset_of_the_seed_experiment_is_random_and_old_names_warn(mnist_dir):
    arrays = shared.seed_arrays(normalise_inputs=False, train_subset_size=500)
    # A random subset of the 48,000 training examples, not the first 500 of them.
    labels_of_first = shared.seed_arrays(normalise_inputs=False)["train"][1][:500]
    assert arrays["train"][0].shape == (500, 784)
    assert not np.array_equal(arrays["train"][1], labels_of_first)
    with pytest.warns(DeprecationWarning, match="train_subset_size"):
        old = shared.seed_arrays(normalise_inputs=False, max_train_examples=500)
    np.testing.assert_array_equal(old["train"][0], arrays["train"][0])
    with pytest.raises(TypeError, match="not max_train_examples too"):
        shared.seed_arrays(train_subset_size=5, max_train_examples=5)
    with pytest.warns(DeprecationWarning, match="mnist_loaders is deprecated"):
        train, _, _ = twin.mnist_loaders(max_train_examples=500)
    assert train.num_examples == 500
    np.testing.assert_array_equal(train.labels, arrays["train"][1])
