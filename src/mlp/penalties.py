"""Parameter penalties (regularisers) that a layer adds to the error it is trained on.

`AffineLayer(..., weights_penalty=L2Penalty(1e-4))` adds `penalty(weights)` to the error
the optimiser reports and `penalty.grad(weights)` to the weight gradient.
"""

from __future__ import annotations

import numpy as np

from mlp import _checks

__all__ = ["L1Penalty", "L2Penalty"]


class _Penalty:
    def __init__(self, coefficient: float) -> None:
        self.coefficient = _checks.number(coefficient, "coefficient", type(self).__name__, low=0)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.coefficient})"


class L1Penalty(_Penalty):
    """coefficient * sum(|p|): pushes parameters to exactly zero (sparsity)."""

    def __call__(self, parameter: np.ndarray) -> float:
        """Penalty of `parameter` (any shape), a scalar."""
        parameter = _checks.floats(parameter, "parameter", self)
        return self.coefficient * float(np.abs(parameter).sum())

    def grad(self, parameter: np.ndarray) -> np.ndarray:
        """Gradient with respect to `parameter`, same shape (sign(0) taken as 0)."""
        parameter = _checks.floats(parameter, "parameter", self)
        return self.coefficient * np.sign(parameter)


class L2Penalty(_Penalty):
    """0.5 * coefficient * sum(p**2): weight decay, shrinking parameters towards zero."""

    def __call__(self, parameter: np.ndarray) -> float:
        """Penalty of `parameter` (any shape), a scalar."""
        parameter = _checks.floats(parameter, "parameter", self)
        return 0.5 * self.coefficient * float(np.vdot(parameter, parameter))

    def grad(self, parameter: np.ndarray) -> np.ndarray:
        """Gradient with respect to `parameter`, same shape."""
        parameter = _checks.floats(parameter, "parameter", self)
        return self.coefficient * parameter
