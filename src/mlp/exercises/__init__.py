"""Exercise mode: skeletons for students to complete, checks that say what is wrong (see `mlp.exercises.exercise`)."""
