"""Exercise mode: skeletons for students to complete, checks that say what is wrong.

    >>> from mlp.exercises import check, write_skeletons
    >>> write_skeletons(["tanh", "relu"], ".")       # writes my_layers.py to fill in
    >>> from my_layers import TanhLayer
    >>> check(TanhLayer)                             # per method: right, or where and why

Teachers: `write_pack(names, path, seed)` writes a per-student pack of cases and
expected results, and `grade(path, module)` marks a submission against it. The same is
on the command line: `mlp exercise list|start|check|pack|grade`. What an exercise is:
`mlp.exercises.exercise`; the catalogue: `mlp.exercises.catalogue`.
"""

from mlp.exercises.catalogue import EXERCISES, exercise
from mlp.exercises.checking import CheckReport, check
from mlp.exercises.exercise import Case, Exercise, Method, Mistake
from mlp.exercises.packs import PACK_FORMAT_VERSION, Grade, PackError, grade, write_pack
from mlp.exercises.skeletons import write_skeletons

__all__ = [
    "EXERCISES",
    "PACK_FORMAT_VERSION",
    "Case",
    "CheckReport",
    "Exercise",
    "Grade",
    "Method",
    "Mistake",
    "PackError",
    "check",
    "exercise",
    "grade",
    "write_pack",
    "write_skeletons",
]
