"""The `mlp exercise` command: list, start, check, pack and grade exercises.

    mlp exercise list
    mlp exercise start tanh relu --out lab1          # writes lab1/my_layers.py
    mlp exercise check lab1/my_layers.py[:TanhLayer] # exit status 0 when all is right
    mlp exercise pack tanh relu --seed 1234 -o s1234.npz
    mlp exercise grade s1234.npz lab1/my_layers.py [--json]

A student's file is imported by path; an error while importing it is reported with its
line and message, never as a traceback.
"""

from __future__ import annotations

import importlib.util
import sys
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any

import mlp.exercises.catalogue as catalogue
import mlp.exercises.checking as checking
import mlp.exercises.packs as packs
import mlp.exercises.skeletons as skeletons

__all__ = ["StudentFileError", "add_parser", "command", "load_student_file"]


class StudentFileError(Exception):
    """A student's file that cannot be imported; the message names its line."""


def add_parser(commands: Any) -> None:
    """Add the `exercise` subcommand to the `mlp` command's subparsers."""
    parser = commands.add_parser(
        "exercise", help="exercises: skeletons to complete, checks, graded packs"
    )
    actions = parser.add_subparsers(dest="exercise_command", required=True, metavar="ACTION")
    actions.add_parser("list", help="list the exercises")
    start = actions.add_parser("start", help="write a student module of skeletons")
    start.add_argument("names", nargs="+", metavar="NAME", help="exercises (see list)")
    start.add_argument("--out", default=".", help="folder to write to (default: here)")
    start.add_argument("--module", help="module name (default e.g. my_layers)")
    start.add_argument("--overwrite", action="store_true", help="replace an existing file")
    check = actions.add_parser("check", help="check a student's classes")
    check.add_argument("files", nargs="+", metavar="FILE[:CLASS]", help="student files")
    check.add_argument("--seed", type=int, default=0, help="seed of the random cases")
    pack = actions.add_parser("pack", help="write a graded pack for one student")
    pack.add_argument("names", nargs="+", metavar="NAME", help="exercises (see list)")
    pack.add_argument("--seed", type=int, required=True, help="the student's seed")
    pack.add_argument("-o", "--output", required=True, help="the npz file to write")
    grade = actions.add_parser("grade", help="mark a student's file against a pack")
    grade.add_argument("pack", help="the pack (npz) written by `mlp exercise pack`")
    grade.add_argument("student_file", help="the student's Python file")
    grade.add_argument("--json", action="store_true", help="print the marks as JSON")


def load_student_file(path: str | Path) -> ModuleType:
    """Import the Python file at `path` as a module of its own.

    Raises:
        StudentFileError: it is missing, not a .py file, or raised while importing
            (the message gives the line and the error).
    """
    path = Path(path)
    if not path.is_file() or path.suffix != ".py":
        raise StudentFileError(f"{path}: no such Python file")
    name = f"mlp_student_{abs(hash(str(path.resolve())))}_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    sys.path.insert(0, str(path.parent.resolve()))  # so the file can import its neighbours
    try:
        spec.loader.exec_module(module)
    except SyntaxError as error:
        del sys.modules[name]
        raise StudentFileError(f"{path} line {error.lineno}: SyntaxError: {error.msg}") from None
    except Exception as error:  # whatever the student's module raises
        del sys.modules[name]
        here = path.resolve()
        frames = [
            f
            for f in traceback.extract_tb(error.__traceback__)
            if Path(f.filename).resolve() == here
        ]
        line = f" line {frames[-1].lineno}" if frames else ""
        raise StudentFileError(f"{path}{line}: {type(error).__name__}: {error}") from None
    finally:
        sys.path.remove(str(path.parent.resolve()))
    return module


def _exercise_classes(module: ModuleType, only: str | None) -> list[type]:
    """The classes of `module` to check: `only`, or those named like an exercise's class."""
    names = {entry.class_name for entry in catalogue.EXERCISES.values()}
    if only is not None:
        found = getattr(module, only, None)
        if not isinstance(found, type):
            raise StudentFileError(f"{module.__file__} has no class {only!r}")
        return [found]
    classes = [
        value
        for key, value in vars(module).items()
        if isinstance(value, type) and key in names and value.__module__ == module.__name__
    ]
    if not classes:
        raise StudentFileError(
            f"{module.__file__} defines none of the exercises' classes ({', '.join(sorted(names))})"
        )
    return classes


def _split(target: str) -> tuple[str, str | None]:
    """FILE[:CLASS] -> (FILE, CLASS or None); a ':' inside a path is kept."""
    file, _, cls = target.rpartition(":")
    if file and cls.isidentifier():
        return file, cls
    return target, None


def _check(args: Any) -> int:
    all_right = True
    for target in args.files:
        file, only = _split(target)
        module = load_student_file(file)
        for cls in _exercise_classes(module, only):
            report = checking.check(cls, seed=args.seed)
            print(report, end="\n\n")
            all_right = all_right and report.passed
    return 0 if all_right else 1


def _list() -> int:
    entries = list(catalogue.EXERCISES.values())
    name_width = max(len(e.name) for e in entries)
    class_width = max(len(e.class_name) for e in entries)
    for entry in entries:
        methods = ", ".join(method.name for method in entry.methods)
        print(
            f"{entry.name:<{name_width}}  {entry.class_name:<{class_width}}  "
            f"{entry.title} ({methods})"
        )
    return 0


def _dispatch(args: Any) -> int:
    action = args.exercise_command
    if action == "list":
        return _list()
    if action == "start":
        path = skeletons.write_skeletons(args.names, args.out, args.module, args.overwrite)
        print(f"wrote {path}: complete its methods, then run `mlp exercise check {path}`")
        return 0
    if action == "check":
        return _check(args)
    if action == "pack":
        path = packs.write_pack(args.names, args.output, args.seed)
        print(f"wrote {path} ({', '.join(args.names)}, seed {args.seed})")
        return 0
    result = packs.grade(args.pack, load_student_file(args.student_file))
    print(result.to_json() if args.json else result)
    return 0


def command(args: Any) -> int:
    """Run `mlp exercise ...` from parsed arguments; returns the exit status (0 all
    right, 1 a check found something wrong, 2 bad arguments or files)."""
    try:
        return _dispatch(args)
    except (StudentFileError, ValueError, TypeError, FileExistsError, FileNotFoundError) as error:
        print(f"mlp exercise {args.exercise_command}: error: {error}", file=sys.stderr)
        return 2
