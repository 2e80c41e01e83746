"""The dropout exercise (`mlp.layers.DropoutLayer`, inverted dropout).

Dropout's draws are random: every case carries a seed, and the layer is built with
`rng=np.random.RandomState(seed)`, so a student's layer drawing as its skeleton says
draws the reference's masks. Its `fprop` is checked in both modes (a list: the training
outputs, then the evaluation outputs); its `bprop` after one training `fprop`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from mlp.exercises.case_tools import (
    array,
    flag,
    float64,
    integer,
    layer_gradient_check,
    number,
    planted,
    upstream,
)
from mlp.exercises.exercise import Case, Exercise, Method, Mistake
from mlp.layers import DropoutLayer

__all__ = ["DROPOUT_EXERCISE"]

Array = np.ndarray


def _dropout(cls: type, case: Case) -> Any:
    return cls(
        rng=np.random.RandomState(integer(case, "seed")),
        incl_prob=number(case, "incl_prob"),
        share_across_batch=flag(case, "share_across_batch"),
    )


def _run_dropout_fprop(cls: type, case: Case) -> list[Array]:
    """[fprop(inputs, stochastic=True), fprop(inputs, stochastic=False)] of one layer."""
    with float64():
        layer = _dropout(cls, case)
        training = layer.fprop(array(case, "inputs"), stochastic=True)
        return [training, layer.fprop(array(case, "inputs"), stochastic=False)]


def _run_dropout_bprop(cls: type, case: Case) -> Array:
    """bprop(inputs, outputs, grads_wrt_outputs) after one training fprop."""
    with float64():
        layer = _dropout(cls, case)
        outputs = layer.fprop(array(case, "inputs"), stochastic=True)
        return layer.bprop(array(case, "inputs"), outputs, array(case, "grads_wrt_outputs"))


def _dropout_case(
    rng: np.random.Generator, label: str, inputs: object, incl_prob: float, share: bool
) -> Case:
    values = np.asarray(inputs, dtype=np.float64)
    arrays = {"inputs": values, "grads_wrt_outputs": upstream(rng, values.shape)}
    settings = {
        "seed": int(rng.integers(2**31)),
        "incl_prob": incl_prob,
        "share_across_batch": int(share),
    }
    return Case(label, arrays, settings)


def _dropout_cases(rng: np.random.Generator) -> list[Case]:
    small = [[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]]
    return [
        _dropout_case(rng, "small", small, 0.5, True),
        _dropout_case(rng, "random, a mask per example", rng.normal(size=(5, 6)), 0.8, False),
        _dropout_case(rng, "random, one mask", rng.normal(size=(4, 6)), 0.3, True),
        _dropout_case(rng, "large magnitudes", 1e4 * rng.normal(size=(3, 5)), 0.5, False),
        _dropout_case(rng, "zeros", np.zeros((3, 4)), 0.5, True),
        _dropout_case(rng, "shape (2, 3, 4)", rng.normal(size=(2, 3, 4)), 0.6, False),
        _dropout_case(rng, "keep everything", rng.normal(size=(2, 3)), 1.0, True),
    ]


def _redrawn_fprop(
    keep: Callable[[Any, Array], Array], shape: Callable[[Any, Array], tuple[int, ...]]
) -> Callable[..., Array]:
    """A training fprop drawing its own mask, keep(layer, uniform draws) of the given
    shape, from where the reference's draws start. The reference's fprop runs first
    and keeps its own (right) mask for bprop: the mistake lives in fprop alone."""

    def fprop(self: Any, inputs: Array, stochastic: bool = True) -> Array:
        if not stochastic:
            return DropoutLayer.fprop(self, inputs, stochastic=False)
        start = self.rng.get_state()
        DropoutLayer.fprop(self, inputs, stochastic=True)
        self.rng.set_state(start)
        values = np.asarray(inputs, dtype=np.float64)
        draws = self.rng.uniform(size=shape(self, values))
        return values * keep(self, draws) / self.incl_prob

    return fprop


def _right_shape(layer: Any, inputs: Array) -> tuple[int, ...]:
    return (1, *inputs.shape[1:]) if layer.share_across_batch else inputs.shape


def _wrong_shape(layer: Any, inputs: Array) -> tuple[int, ...]:
    return inputs.shape if layer.share_across_batch else (1, *inputs.shape[1:])


def _unscaled_training(self: Any, inputs: Array, stochastic: bool = True) -> Array:
    outputs = DropoutLayer.fprop(self, inputs, stochastic=stochastic)
    return outputs * self.incl_prob if stochastic else outputs


def _scaled_evaluation(self: Any, inputs: Array, stochastic: bool = True) -> Array:
    outputs = DropoutLayer.fprop(self, inputs, stochastic=stochastic)
    return outputs if stochastic else outputs * self.incl_prob


def _dropout_mistakes() -> tuple[Mistake, ...]:
    wrong: list[tuple[str, str, str, Callable[..., Any]]] = [
        (
            "fprop",
            "no-inverted-scaling",
            "the kept inputs were not scaled by 1 / incl_prob "
            "while training: inverted dropout scales them so that evaluation is the identity",
            _unscaled_training,
        ),
        (
            "fprop",
            "scaled-at-evaluation",
            "the evaluation outputs were scaled by incl_prob: "
            "with inverted dropout the training outputs are scaled, and evaluation "
            "(stochastic=False) returns the inputs unchanged",
            _scaled_evaluation,
        ),
        (
            "fprop",
            "keep-and-drop-swapped",
            "units were kept with probability 1 - incl_prob: "
            "keep where rng.uniform(size=shape) < incl_prob",
            _redrawn_fprop(lambda s, u: u >= s.incl_prob, _right_shape),
        ),
        (
            "fprop",
            "mask-sharing-swapped",
            "the mask was shared across the batch when it "
            "should not be, or the other way round: with share_across_batch draw one mask of "
            "shape (1,) + inputs.shape[1:], else one of inputs.shape",
            _redrawn_fprop(lambda s, u: u < s.incl_prob, _wrong_shape),
        ),
        (
            "bprop",
            "no-mask",
            "bprop passed the gradients through unchanged: multiply them by "
            "the mask of the latest training fprop (dropped units get no gradient)",
            lambda s, x, y, g: np.asarray(g, dtype=np.float64),
        ),
        (
            "bprop",
            "mask-unscaled",
            "bprop applied the mask without the 1 / incl_prob "
            "that fprop applied: the gradient is grads_wrt_outputs * mask / incl_prob",
            lambda s, x, y, g: DropoutLayer.bprop(s, x, y, g) * s.incl_prob,
        ),
    ]
    return tuple(
        Mistake(name, method, hint, planted(DropoutLayer, method, body, name))
        for method, name, hint, body in wrong
    )


_DROPOUT_SKELETON = '''
class DropoutLayer(StochasticLayer):
    """Inverted dropout: while training each input is kept with probability incl_prob
    and scaled by 1 / incl_prob, or set to 0; at evaluation the layer is the identity.

    fprop(x, stochastic=True) draws a mask, exactly so (the check repeats your draws
    from the same seed):

        shape = (1,) + x.shape[1:] if share_across_batch else x.shape
        keep = self.rng.uniform(size=shape) < incl_prob
        y = x * keep / incl_prob

    fprop(x, stochastic=False) is y = x. bprop multiplies the gradients by the same
    keep / incl_prob as the latest training fprop (the identity after an evaluation one):

        dE/dx = dE/dy * keep / incl_prob

    Shape:
        inputs: (batch_size, ...), any shape; outputs and gradients: like inputs.

    Args:
        rng: the np.random.RandomState the masks are drawn from (self.rng).
        incl_prob: the probability of keeping a unit, in (0, 1].
        share_across_batch: one mask for the whole batch rather than one per example.
    """

    def __init__(self, rng=None, incl_prob: float = 0.5, share_across_batch: bool = True) -> None:
        super().__init__(rng)
        self.incl_prob = incl_prob
        self.share_across_batch = share_across_batch

    def fprop(self, inputs: np.ndarray, stochastic: bool = True) -> np.ndarray:
        """outputs, shaped like inputs; draws and keeps the mask when stochastic."""
        raise NotImplementedError("DropoutLayer.fprop: draw the mask and apply it")

    def bprop(
        self, inputs: np.ndarray, outputs: np.ndarray, grads_wrt_outputs: np.ndarray
    ) -> np.ndarray:
        """grads_wrt_inputs, shaped like inputs, through the latest mask."""
        raise NotImplementedError("DropoutLayer.bprop: apply the latest mask")
'''

DROPOUT_EXERCISE = Exercise(
    name="dropout",
    title="Dropout layer (inverted dropout)",
    class_name="DropoutLayer",
    reference=DropoutLayer,
    methods=(Method("fprop", _run_dropout_fprop), Method("bprop", _run_dropout_bprop)),
    skeleton=_DROPOUT_SKELETON.lstrip("\n"),
    cases=_dropout_cases,
    mistakes=_dropout_mistakes(),
    gradient_check=layer_gradient_check(_dropout),
    imports=("import numpy as np", "from mlp.layer_base import StochasticLayer"),
    notes={"fprop result": "[training outputs, evaluation outputs]"},
)
"""The dropout exercise."""
