"""The exercises beyond layers: errors, penalties, dropout, learning rules, a scheduler, the convolutional layer."""

from __future__ import annotations

from mlp.exercises.exercise import Exercise

EXERCISES: tuple[Exercise, ...] = ()
"""This module's exercises, in catalogue order."""
