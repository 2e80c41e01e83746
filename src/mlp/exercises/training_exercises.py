"""The exercises beyond layers: errors, penalties, dropout, learning rules, a scheduler, the convolutional layer."""

from __future__ import annotations

from mlp.exercises.exercise import Exercise
from mlp.exercises.loss_exercises import ERROR_EXERCISES, PENALTY_EXERCISES
from mlp.exercises.rule_exercises import RULE_EXERCISES, SCHEDULER_EXERCISES

EXERCISES: tuple[Exercise, ...] = (
    *ERROR_EXERCISES,
    *PENALTY_EXERCISES,
    *RULE_EXERCISES,
    *SCHEDULER_EXERCISES,
)
"""This module's exercises, in catalogue order."""
