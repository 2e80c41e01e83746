"""The exercises beyond layers: errors, penalties, dropout, learning rules, a scheduler, the convolutional layer."""

from __future__ import annotations

from mlp.exercises.exercise import Exercise
from mlp.exercises.loss_exercises import ERROR_EXERCISES, PENALTY_EXERCISES

EXERCISES: tuple[Exercise, ...] = (*ERROR_EXERCISES, *PENALTY_EXERCISES)
"""This module's exercises, in catalogue order."""
