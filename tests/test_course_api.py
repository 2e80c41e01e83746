"""The names of DESIGN.md's table "The course's other labs and coursework", built with the
course's own signatures and keywords, and trained or evaluated the way its labs do.

Each part has its detailed tests elsewhere (test_convolution, test_course_layers,
test_normalisation, test_schedulers, test_training_options, test_course_data); this
module is the one place that reads like course code, so that a renamed keyword or a
changed default shows up as a course lab that no longer runs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mlp.data_providers import (
    AugmentedMNISTDataProvider,
    CCPPDataProvider,
    EMNISTDataProvider,
    MetOfficeDataProvider,
    MNISTAutoencoderDataProvider,
    MNISTDataProvider,
)
from mlp.errors import CrossEntropySoftmaxError, SumOfSquaredDiffsError
from mlp.initialisers import ConstantInit, GlorotUniformInit, UniformInit
from mlp.layers import (
    AffineLayer,
    BatchNormalizationLayer,
    ConvolutionalLayer,
    ExponentialLinearUnitLayer,
    LeakyReluLayer,
    MaxPooling2DLayer,
    MaxPoolingLayer,
    ParametricReluLayer,
    RadialBasisFunctionLayer,
    RandomReluLayer,
    ReluLayer,
    ReshapeLayer,
)
from mlp.learning_rules import AdamLearningRule, GradientDescentLearningRule
from mlp.models import MultipleLayerModel
from mlp.optimisers import Optimiser
from mlp.schedulers import ConstantLearningRateScheduler, CosineAnnealingWithWarmRestarts

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"


def _accuracy(outputs, targets):
    return (outputs.argmax(-1) == targets.argmax(-1)).mean()


def _train(model, error, rule, train, valid, schedulers, **optimiser_options):
    optimiser = Optimiser(
        model,
        error,
        rule,
        train,
        valid,
        {"acc": _accuracy},
        schedulers=schedulers,
        **optimiser_options,
    )
    stats, keys, _ = optimiser.train(num_epochs=3, stats_interval=-1)
    return stats, keys


def test_a_course_cnn_trains_with_warm_restarts_and_stochastic_evaluation_off(mnist_dir) -> None:
    rng = np.random.RandomState(10102016)
    train = MNISTDataProvider("train", batch_size=50, max_num_batches=8, rng=rng)
    valid = MNISTDataProvider("valid", batch_size=50, max_num_batches=4, rng=rng)
    model = MultipleLayerModel(
        [
            ReshapeLayer((1, 28, 28)),
            ConvolutionalLayer(
                1,
                4,
                28,
                28,
                5,
                5,
                kernels_init=UniformInit(-0.1, 0.1, rng=rng),
                biases_init=ConstantInit(0.0),
                kernels_penalty=None,
                biases_penalty=None,
            ),
            ReluLayer(),
            MaxPooling2DLayer(pool_size=2),
            ReshapeLayer(),
            AffineLayer(4 * 12 * 12, 32, GlorotUniformInit(rng=rng), ConstantInit(0.0)),
            BatchNormalizationLayer(32),
            RandomReluLayer(lower=0.125, upper=1 / 3, rng=rng),
            AffineLayer(32, 10, GlorotUniformInit(rng=rng), ConstantInit(0.0)),
        ]
    )
    rule = AdamLearningRule()
    schedule = CosineAnnealingWithWarmRestarts(
        min_learning_rate=1e-4,
        max_learning_rate=1e-2,
        total_iters_per_period=2,
        max_learning_rate_discount_factor=0.9,
        period_iteration_expansion_factor=1,
    )
    stats, keys = _train(
        model, CrossEntropySoftmaxError(), rule, train, valid, [schedule], use_stochastic_eval=False
    )
    # stats_interval=-1: a row before training and one after the last epoch
    assert stats.shape == (2, len(keys)) and np.isfinite(stats).all()
    assert stats[1, keys["error(train)"]] < stats[0, keys["error(train)"]]
    # epoch 2 opens a new period, with the maximum discounted once
    assert rule.learning_rate == pytest.approx(1e-2 * 0.9)


def test_the_course_activations_train_an_mlp(mnist_dir) -> None:
    rng = np.random.RandomState(1)
    train = MNISTDataProvider("train", batch_size=100, max_num_batches=5, rng=rng)
    model = MultipleLayerModel(
        [
            AffineLayer(784, 64, GlorotUniformInit(rng=rng), ConstantInit(0.0)),
            ParametricReluLayer(alpha=0.25),
            AffineLayer(64, 64, GlorotUniformInit(rng=rng), ConstantInit(0.0)),
            MaxPoolingLayer(pool_size=2),
            AffineLayer(32, 32, GlorotUniformInit(rng=rng), ConstantInit(0.0)),
            ExponentialLinearUnitLayer(alpha=0.01),
            AffineLayer(32, 32, GlorotUniformInit(rng=rng), ConstantInit(0.0)),
            LeakyReluLayer(alpha=0.01),
            AffineLayer(32, 10, GlorotUniformInit(rng=rng), ConstantInit(0.0)),
        ]
    )
    alpha_before = model.params[2].copy()
    stats, keys = _train(
        model,
        CrossEntropySoftmaxError(),
        GradientDescentLearningRule(0.1),
        train,
        None,
        [ConstantLearningRateScheduler(0.1)],
    )
    assert stats[1, keys["error(train)"]] < stats[0, keys["error(train)"]]
    assert not np.array_equal(model.params[2], alpha_before)  # PReLU's alpha learned


def test_rrelu_takes_the_course_s_leakiness_argument() -> None:
    layer = RandomReluLayer(lower=0.125, upper=1 / 3, rng=np.random.RandomState(3))
    inputs = np.array([[-2.0, 1.0], [3.0, -4.0]])
    np.testing.assert_allclose(layer.fprop(inputs, leakiness=0.5), [[-1.0, 1.0], [3.0, -2.0]])


def test_rbf_regression_on_a_one_dimensional_grid() -> None:
    # The course's regression lab feeds a 1-D grid of inputs of shape (batch_size,).
    x = np.linspace(0.0, 1.0, 40)
    layer = RadialBasisFunctionLayer(grid_dim=12, intervals=[[0.0, 1.0]])
    features = layer.fprop(x)
    assert features.shape == (40, 12)
    weights, *_ = np.linalg.lstsq(features, np.sin(2 * np.pi * x), rcond=None)
    assert np.abs(features @ weights - np.sin(2 * np.pi * x)).max() < 0.05


def test_augmented_and_autoencoder_providers_as_the_labs_use_them(mnist_dir) -> None:
    def flip(inputs, rng):
        return inputs[:, ::-1].copy()

    rng = np.random.RandomState(5)
    augmented = AugmentedMNISTDataProvider(
        "train", batch_size=10, max_num_batches=1, shuffle_order=False, rng=rng, transformer=flip
    )
    plain = MNISTDataProvider("train", batch_size=10, max_num_batches=1, shuffle_order=False)
    (aug_inputs, aug_targets), (inputs, targets) = next(augmented), next(plain)
    np.testing.assert_array_equal(aug_inputs, inputs[:, ::-1])
    np.testing.assert_array_equal(aug_targets, targets)
    auto = MNISTAutoencoderDataProvider("train", batch_size=10, max_num_batches=1, rng=rng)
    batch_inputs, batch_targets = next(auto)
    np.testing.assert_array_equal(batch_inputs, batch_targets)


def test_emnist_provider_reads_the_course_files(tmp_path) -> None:
    rng = np.random.RandomState(0)
    for split, n in (("train", 60), ("valid", 20), ("test", 20)):
        np.savez(
            tmp_path / f"emnist-{split}.npz",
            inputs=rng.randint(0, 256, size=(n, 28, 28)).astype(np.uint8),
            targets=rng.randint(0, 47, size=n),
        )
    flat = EMNISTDataProvider("train", batch_size=10, rng=rng, data_dir=str(tmp_path))
    images = EMNISTDataProvider("valid", batch_size=10, flatten=False, data_dir=str(tmp_path))
    inputs, targets = next(flat)
    assert inputs.shape == (10, 784) and targets.shape == (10, 47) and inputs.max() <= 1.0
    assert next(images)[0].shape == (10, 1, 28, 28)


needs_reference = pytest.mark.skipif(
    not REFERENCE.is_dir(), reason="needs ../shared/reference beside the checkout"
)


@needs_reference
def test_met_office_and_ccpp_regression_with_the_course_files(tmp_path) -> None:
    import shutil

    for name in ("HadSSP_daily_qc.txt", "ccpp_data.npz"):
        shutil.copy(REFERENCE / name, tmp_path / name)
    rng = np.random.RandomState(2)
    met = MetOfficeDataProvider(12, batch_size=10, rng=rng, data_dir=str(tmp_path))
    inputs, targets = next(met)
    assert inputs.shape == (10, 11) and targets.shape == (10,)  # as the course's provider
    train = CCPPDataProvider("train", input_dims=[0, 3], batch_size=10, data_dir=str(tmp_path))
    model = MultipleLayerModel([AffineLayer(2, 1, UniformInit(-0.1, 0.1, rng=rng))])
    optimiser = Optimiser(model, SumOfSquaredDiffsError(), GradientDescentLearningRule(0.01), train)
    stats, keys, _ = optimiser.train(num_epochs=2, stats_interval=-1)
    assert stats[-1, keys["error(train)"]] < stats[0, keys["error(train)"]]
