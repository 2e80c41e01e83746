"""The exercises beyond layers: errors, penalties, dropout, learning rules, a scheduler, the convolutional layer."""

from __future__ import annotations

from mlp.exercises.convolution_exercises import CONVOLUTION_EXERCISE
from mlp.exercises.dropout_exercises import DROPOUT_EXERCISE
from mlp.exercises.error_exercises import ERROR_EXERCISES
from mlp.exercises.exercise import Exercise
from mlp.exercises.penalty_exercises import PENALTY_EXERCISES
from mlp.exercises.rule_exercises import RULE_EXERCISES
from mlp.exercises.scheduler_exercises import SCHEDULER_EXERCISES

EXERCISES: tuple[Exercise, ...] = (
    *ERROR_EXERCISES,
    *PENALTY_EXERCISES,
    DROPOUT_EXERCISE,
    *RULE_EXERCISES,
    *SCHEDULER_EXERCISES,
    CONVOLUTION_EXERCISE,
)
"""This module's exercises, in catalogue order."""
