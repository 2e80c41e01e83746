"""The layer exercises: the non-linearities, softmax and the affine layer."""

from __future__ import annotations

from mlp.exercises.exercise import Exercise

EXERCISES: tuple[Exercise, ...] = ()
"""This module's exercises, in catalogue order."""
