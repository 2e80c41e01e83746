"""The exercises beyond layers: errors, penalties, dropout, learning rules, a scheduler, the convolutional layer."""

from __future__ import annotations

from mlp.exercises.dropout_conv_exercises import CONVOLUTION_EXERCISE, DROPOUT_EXERCISE
from mlp.exercises.exercise import Exercise
from mlp.exercises.loss_exercises import ERROR_EXERCISES, PENALTY_EXERCISES
from mlp.exercises.rule_exercises import RULE_EXERCISES, SCHEDULER_EXERCISES

EXERCISES: tuple[Exercise, ...] = (
    *ERROR_EXERCISES,
    *PENALTY_EXERCISES,
    DROPOUT_EXERCISE,
    *RULE_EXERCISES,
    *SCHEDULER_EXERCISES,
    CONVOLUTION_EXERCISE,
)
"""This module's exercises, in catalogue order."""
