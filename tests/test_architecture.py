"""Architecture rules of the mlp package, checked by reading its source with `ast`.

Nothing here imports the package: the checks parse ``src/mlp/**/*.py``, so they run
without NumPy or PyTorch and see every module, even those that fail to import. Each check
is a function of a source root, so that the tests at the end can run it on small
synthetic trees and show that it does catch what it looks for.

The rules:

1. **Public seams.** No module uses a ``_private`` name of another module of the package:
   neither ``from mlp.x import _name`` (relative imports are resolved first) nor
   ``x._name`` / ``getattr(x, "_name")`` on an imported mlp module, nor a private
   attribute of an object that the reading module does not itself define (such as
   ``executor._processes`` or ``provider._order``). Private *modules* are allowed: the
   public names of ``mlp._fast`` are meant for the rest of the package, and importing
   the private module itself (``from mlp import _fast``) is fine too. Dunder names such
   as ``__version__`` are not private.
2. **No import cycles** among the package's modules. An edge A -> B is an import of B
   that runs when A is imported: statements at module level, including those in ``try``,
   ``if``, ``with`` and class bodies. Two kinds are left out, on purpose:

   - imports under ``if TYPE_CHECKING:``, which never run;
   - imports inside functions, which run when the function is first called, after every
     module involved has finished initialising. They cannot deadlock an import, and they
     are how the package defers optional or heavy dependencies (PyTorch, matplotlib,
     tqdm, the data sets) so that ``import mlp`` stays fast; counting them would forbid
     the very pattern that keeps those dependencies optional.

   ``from mlp.pkg import name`` reads an attribute of ``mlp.pkg`` once its ``__init__``
   has run, so it counts as an import of ``mlp.pkg``, plus one of ``mlp.pkg.name`` when
   that is a module. ``import mlp.a.b`` counts as an import of ``mlp.a.b``.
3. **Honest ``__all__``.** A module's ``__all__`` is a literal list (or tuple) of strings,
   and lists only names the module defines or imports (or, in a package's
   ``__init__``, its submodules).

Offences are reported one a line as ``path:line what``, every one of them, so that a
failure says at once what to fix.
"""

from __future__ import annotations

import ast
import itertools
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "mlp"

# Underscore names that are documented public API of the standard library: a named
# tuple's methods, os._exit (leaving a forked child without cleanup) and sys._getframe
# (the frames a warning's stacklevel is counted in; Python 3.12's skip_file_prefixes
# replaces it, but the package supports 3.10).
PUBLIC_UNDERSCORE_ATTRIBUTES = frozenset(
    {"_asdict", "_replace", "_fields", "_field_defaults", "_make", "_exit", "_getframe"}
)


# ------------------------------------------------------------------------------------------
# Reading the tree
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Module:
    """One source file of the package: its dotted name, its file and its syntax tree."""

    name: str
    path: Path
    is_package: bool
    tree: ast.Module
    label: str  # the path as reported, relative to the source root's parent

    def where(self, node: ast.AST) -> str:
        return f"{self.label}:{getattr(node, 'lineno', 0)}"

    def __repr__(self) -> str:  # short, for pytest's failure reports
        return f"Module({self.name!r})"


def read_modules(src: Path, package: str = PACKAGE) -> dict[str, Module]:
    """Parse every ``.py`` file of ``src/package``, keyed by dotted module name."""
    modules = {}
    for path in sorted((src / package).rglob("*.py")):
        parts = path.relative_to(src).with_suffix("").parts
        is_package = parts[-1] == "__init__"
        name = ".".join(parts[:-1] if is_package else parts)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        label = path.relative_to(src.parent).as_posix()
        modules[name] = Module(name, path, is_package, tree, label)
    return modules


def is_private(name: str) -> bool:
    """``_name`` is private; ``__dunder__`` names are not."""
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def in_package(name: str | None, package: str = PACKAGE) -> bool:
    return name is not None and (name == package or name.startswith(package + "."))


def imported_from(module: Module, node: ast.ImportFrom) -> str | None:
    """The absolute module a ``from ... import`` reads, resolving relative imports."""
    if node.level == 0:
        return node.module
    parts = module.name.split(".") if module.is_package else module.name.split(".")[:-1]
    if node.level - 1 > len(parts) - 1:
        return None  # beyond the top-level package: Python refuses it too
    parts = parts[: len(parts) - (node.level - 1)]
    return ".".join(parts + ([node.module] if node.module else []))


def module_bindings(module: Module, modules: dict[str, Module]) -> dict[str, str]:
    """Local names bound to modules of the package by imports anywhere in ``module``."""
    bound = {}
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if not in_package(alias.name):
                    continue
                if alias.asname:
                    bound[alias.asname] = alias.name
                else:  # `import mlp.a.b` binds `mlp`; the rest is reached by attributes
                    bound[alias.name.split(".")[0]] = alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            base = imported_from(module, node)
            for alias in node.names:
                if base is not None and f"{base}.{alias.name}" in modules:
                    bound[alias.asname or alias.name] = f"{base}.{alias.name}"
    return bound


# ------------------------------------------------------------------------------------------
# Rule 1: public seams
# ------------------------------------------------------------------------------------------


def private_imports(modules: dict[str, Module]) -> list[str]:
    """Every ``from <mlp module> import _name`` of another module's private name."""
    found = []
    for module in modules.values():
        for node in ast.walk(module.tree):
            if not isinstance(node, ast.ImportFrom):
                continue
            base = imported_from(module, node)
            if not in_package(base) or base == module.name:
                continue
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                if is_private(alias.name) and submodule not in modules:
                    found.append(f"{module.where(node)} {submodule}")
    return found


def _module_of(expr: ast.expr, bound: dict[str, str], modules: dict[str, Module]) -> str | None:
    """The package module an expression such as ``kernels`` or ``mlp.runs`` names."""
    if isinstance(expr, ast.Name):
        return bound.get(expr.id)
    if isinstance(expr, ast.Attribute):
        base = _module_of(expr.value, bound, modules)
        if base is not None and f"{base}.{expr.attr}" in modules:
            return f"{base}.{expr.attr}"
    return None


def _attribute_reads(tree: ast.AST) -> Iterator[tuple[ast.AST, ast.expr, str]]:
    """``(node, object, attribute)`` for ``obj.attr`` and ``getattr(obj, "attr", ...)``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            yield node, node.value, node.attr
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "setattr", "hasattr", "delattr")
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
        ):
            yield node, node.args[0], node.args[1].value


def private_module_attributes(modules: dict[str, Module]) -> list[str]:
    """Every ``module._name`` read on another imported module of the package."""
    found = []
    for module in modules.values():
        bound = module_bindings(module, modules)
        for node, obj, attr in _attribute_reads(module.tree):
            owner = _module_of(obj, bound, modules)
            if owner is None or owner == module.name or not is_private(attr):
                continue
            if f"{owner}.{attr}" not in modules:  # a private submodule is allowed
                found.append(f"{module.where(node)} {owner}.{attr}")
    return found


def _own_private_names(tree: ast.AST) -> set[str]:
    """The private names a module defines: its functions, classes, variables and the
    attributes it sets on ``self``/``cls`` or declares in a class body."""
    own = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            own.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            own.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
                own.add(node.attr)
        elif isinstance(node, ast.arg):
            own.add(node.arg)
        elif isinstance(node, ast.keyword) and node.arg:
            own.add(node.arg)  # dataclass field(...)/namedtuple fields built by name
    return {name for name in own if is_private(name)}


def private_object_attributes(modules: dict[str, Module]) -> list[str]:
    """Every ``obj._name`` where ``_name`` is nothing the reading module defines.

    ``self._x`` and ``cls._x`` are the class's own business, and a private name the
    module defines itself (``other._x`` in its own ``__eq__``) is its own too; what is
    left is reaching into someone else's object (``executor._processes``,
    ``provider._order`` from outside the provider's module). Found by name, not by
    type, so a private attribute that the module defines for a class of its own and
    reads on another class's object slips through.
    """
    found = []
    for module in modules.values():
        bound = module_bindings(module, modules)
        own = _own_private_names(module.tree)
        for node, obj, attr in _attribute_reads(module.tree):
            if not is_private(attr) or attr in own or attr in PUBLIC_UNDERSCORE_ATTRIBUTES:
                continue
            if isinstance(obj, ast.Name) and obj.id in ("self", "cls"):
                continue
            if isinstance(obj, ast.Call) and isinstance(obj.func, ast.Name):
                if obj.func.id == "super":
                    continue
            if _module_of(obj, bound, modules) is not None:
                continue  # a module's attribute: `private_module_attributes` judges it
            found.append(f"{module.where(node)} {ast.unparse(obj)}.{attr}")
    return found


# ------------------------------------------------------------------------------------------
# Rule 2: no import cycles
# ------------------------------------------------------------------------------------------


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def import_time_statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """The statements that run when a module is imported: those at module level and,
    inside them, in ``if``, ``try``, ``with``, loops and class bodies. A ``def`` is
    yielded (it binds its name) but not entered; ``if TYPE_CHECKING:`` is skipped."""
    for stmt in body:
        yield stmt
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        if isinstance(stmt, ast.If) and _is_type_checking(stmt.test):
            yield from import_time_statements(stmt.orelse)
            continue
        for field in ("body", "orelse", "finalbody"):
            yield from import_time_statements(getattr(stmt, field, None) or [])
        for handler in getattr(stmt, "handlers", None) or []:
            yield from import_time_statements(handler.body)
        for case in getattr(stmt, "cases", None) or []:
            yield from import_time_statements(case.body)


def import_graph(modules: dict[str, Module]) -> dict[str, dict[str, ast.stmt]]:
    """``{importer: {imported: first import statement}}`` over the import-time imports."""
    graph: dict[str, dict[str, ast.stmt]] = {name: {} for name in modules}
    for module in modules.values():
        for stmt in import_time_statements(module.tree.body):
            targets = []
            if isinstance(stmt, ast.Import):
                targets = [alias.name for alias in stmt.names]
            elif isinstance(stmt, ast.ImportFrom):
                base = imported_from(module, stmt)
                if base is not None:
                    targets = [base] + [f"{base}.{alias.name}" for alias in stmt.names]
            for target in targets:
                if target in modules and target != module.name:
                    graph[module.name].setdefault(target, stmt)
    return graph


def _strongly_connected(graph: dict[str, dict[str, ast.stmt]]) -> list[list[str]]:
    """Tarjan's algorithm: the strongly connected components, each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph[node]):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def _shortest_cycle(graph: dict[str, dict[str, ast.stmt]], start: str, members: set[str]):
    """The shortest path start -> ... -> start within ``members`` (breadth first)."""
    paths = {succ: [start, succ] for succ in sorted(graph[start]) if succ in members}
    queue = list(paths)
    while queue:
        node = queue.pop(0)
        if node == start:
            return paths[node]
        for succ in sorted(graph[node]):
            if succ in members and succ not in paths:
                paths[succ] = paths[node] + [succ]
                queue.append(succ)
    raise AssertionError(f"{start} is in a component without a cycle through it")


def import_cycles(modules: dict[str, Module]) -> list[str]:
    """One line per cycle of import-time imports: the shortest cycle through the first
    module of each strongly connected component, with the line of each import."""
    graph = import_graph(modules)
    found = []
    for component in _strongly_connected(graph):
        if len(component) < 2:
            continue
        cycle = _shortest_cycle(graph, component[0], set(component))
        steps = [cycle[0]] + [
            f"{b} ({modules[a].where(graph[a][b])})" for a, b in itertools.pairwise(cycle)
        ]
        line = " -> ".join(steps)
        if len(component) > len(cycle) - 1:
            line += f"; the whole tangle: {', '.join(component)}"
        found.append(line)
    return found


# ------------------------------------------------------------------------------------------
# Rule 3: honest __all__
# ------------------------------------------------------------------------------------------


def _bound_names(target: ast.expr) -> Iterator[str]:
    for node in ast.walk(target):
        if isinstance(node, ast.Name):
            yield node.id


def defined_names(module: Module, modules: dict[str, Module]) -> set[str]:
    """The names a module binds at import time (and its submodules, for a package)."""
    names: set[str] = set()
    for stmt in import_time_statements(module.tree.body):
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(stmt.name)
        elif isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                names.update(_bound_names(target))
        elif isinstance(stmt, (ast.AnnAssign, ast.AugAssign, ast.For, ast.AsyncFor)):
            names.update(_bound_names(stmt.target))
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            for item in stmt.items:
                if item.optional_vars is not None:
                    names.update(_bound_names(item.optional_vars))
        elif isinstance(stmt, ast.Import):
            names.update(a.asname or a.name.split(".")[0] for a in stmt.names)
        elif isinstance(stmt, ast.ImportFrom):
            names.update(a.asname or a.name for a in stmt.names)
    for node in ast.walk(module.tree):  # `global x` in a function defines x when it runs
        if isinstance(node, ast.Global):
            names.update(node.names)
    if module.is_package:
        prefix = module.name + "."
        names.update(
            n[len(prefix) :]
            for n in modules
            if n.startswith(prefix) and "." not in n[len(prefix) :]
        )
    return names


def bad_all_entries(modules: dict[str, Module]) -> list[str]:
    """Each ``__all__`` entry naming nothing in its module, and each ``__all__`` that is
    not a literal list of strings (which no reader, human or tool, can check)."""
    found = []
    for module in modules.values():
        defined = defined_names(module, modules)
        if "*" in defined:
            continue  # a star import binds names this check cannot see
        for stmt in import_time_statements(module.tree.body):
            if isinstance(stmt, ast.Assign):
                targets, value = stmt.targets, stmt.value
            elif isinstance(stmt, (ast.AnnAssign, ast.AugAssign)) and stmt.value is not None:
                targets, value = [stmt.target], stmt.value
            else:
                continue
            if not any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
                continue
            items = value.elts if isinstance(value, (ast.List, ast.Tuple)) else None
            if items is None or not all(
                isinstance(e, ast.Constant) and isinstance(e.value, str) for e in items
            ):
                found.append(f"{module.where(stmt)} __all__ is not a literal list of strings")
                continue
            for item in items:
                if item.value not in defined:
                    found.append(f"{module.where(item)} {item.value!r} in __all__ is not defined")
    return found


# ------------------------------------------------------------------------------------------
# The rules, over the package itself
# ------------------------------------------------------------------------------------------


def _by_place(offence: str) -> tuple[str, int, str]:
    """Sort key: file, then line number as a number, for ``path:line what`` lines."""
    place, _, what = offence.partition(" ")
    path, _, line = place.rpartition(":")
    return (path, int(line), what) if line.isdigit() else (offence, 0, "")


def _report(offences: list[str], rule: str) -> str:
    return f"{len(offences)} {rule}:\n" + "\n".join(sorted(offences, key=_by_place))


@pytest.fixture(scope="module")
def package() -> dict[str, Module]:
    modules = read_modules(SRC)
    assert f"{PACKAGE}.datasets.fetching" in modules  # the tree was found
    return modules


def test_no_module_imports_a_private_name_of_another(package):
    offences = private_imports(package)
    assert not offences, _report(offences, "imports of another module's private names")


def test_no_module_reads_a_private_attribute_of_another_module(package):
    offences = private_module_attributes(package)
    assert not offences, _report(offences, "private attributes of other modules")


def test_no_module_reaches_into_private_attributes_of_other_objects(package):
    offences = private_object_attributes(package)
    assert not offences, _report(offences, "private attributes of objects defined elsewhere")


def test_the_package_has_no_import_cycles(package):
    cycles = import_cycles(package)
    assert not cycles, _report(cycles, "import cycles")


def test_every_all_lists_only_names_its_module_defines(package):
    offences = bad_all_entries(package)
    assert not offences, _report(offences, "bad __all__ entries")


def test_the_datasets_package_keeps_its_seams_public(package):
    # The part of the rules this branch owns, so that it holds while others still move.
    datasets = {n: m for n, m in package.items() if n.startswith(f"{PACKAGE}.datasets")}
    for check in (private_imports, private_module_attributes, private_object_attributes):
        assert check(datasets) == [], check.__name__
    assert [c for c in import_cycles(package) if "mlp.datasets" in c] == []


# ------------------------------------------------------------------------------------------
# The checks themselves, on small planted trees: each catches what it is for
# ------------------------------------------------------------------------------------------


def plant(tmp_path: Path, files: dict[str, str]) -> dict[str, Module]:
    """Write ``{relative path under src/: source}`` and read it back as a package."""
    for name, source in files.items():
        path = tmp_path / "src" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source), encoding="utf-8")
    return read_modules(tmp_path / "src")


def test_a_planted_private_import_is_caught_absolute_or_relative(tmp_path):
    modules = plant(
        tmp_path,
        {
            "mlp/__init__.py": "",
            "mlp/a.py": "def _helper(): ...\ndef helper(): ...\n",
            "mlp/pkg/__init__.py": "from mlp.a import _helper\n",
            "mlp/pkg/b.py": "from ..a import _helper, helper\n",
            "mlp/pkg/c.py": "def f():\n    from . import _thing\n",  # in a function: still
        },
    )
    assert private_imports(modules) == [
        "src/mlp/pkg/__init__.py:1 mlp.a._helper",
        "src/mlp/pkg/b.py:1 mlp.a._helper",
        "src/mlp/pkg/c.py:2 mlp.pkg._thing",
    ]


def test_private_modules_and_their_public_names_are_allowed(tmp_path):
    modules = plant(
        tmp_path,
        {
            "mlp/__init__.py": "from mlp import _fast\n__version__ = '1'\n",
            "mlp/_fast/__init__.py": "from mlp._fast.step import fast_step\n",
            "mlp/_fast/step.py": "def fast_step(): ...\ndef _inner(): ...\n",
            "mlp/user.py": (
                "import mlp._fast.step as step\nfrom mlp import __version__\n"
                "from mlp._fast import fast_step\nfrom mlp._fast.step import fast_step as f\n"
                "from numpy import _private_of_numpy\nstep.fast_step()\n"
            ),
            "mlp/_fast/own.py": "from mlp._fast.step import _inner\n",
        },
    )
    assert private_imports(modules) == ["src/mlp/_fast/own.py:1 mlp._fast.step._inner"]
    assert private_module_attributes(modules) == []


def test_a_private_attribute_of_a_module_or_a_foreign_object_is_caught(tmp_path):
    modules = plant(
        tmp_path,
        {
            "mlp/__init__.py": "",
            "mlp/kernels.py": "_compiled = None\n",
            "mlp/runs/__init__.py": "",
            "mlp/runs/user.py": """\
                import mlp.kernels
                from mlp import kernels
                from mlp import kernels as k

                class Saver:
                    def __init__(self, provider):
                        self._own = provider._order  # the provider is someone else's
                        self._own = super()._base()

                    def __eq__(self, other):
                        return self._own == other._own  # its own name on its own class

                def f(executor, point):
                    getattr(kernels, "_compiled")
                    return (mlp.kernels._compiled, k._compiled, executor._processes,
                            point._replace(x=1))
                """,
        },
    )
    assert private_module_attributes(modules) == [
        "src/mlp/runs/user.py:14 mlp.kernels._compiled",
        "src/mlp/runs/user.py:15 mlp.kernels._compiled",
        "src/mlp/runs/user.py:15 mlp.kernels._compiled",
    ]
    assert private_object_attributes(modules) == [
        "src/mlp/runs/user.py:7 provider._order",
        "src/mlp/runs/user.py:15 executor._processes",
    ]


def test_a_planted_import_cycle_is_caught_with_its_lines(tmp_path):
    modules = plant(
        tmp_path,
        {
            "mlp/__init__.py": "",
            "mlp/a.py": "from mlp.b import thing\n",
            "mlp/b.py": "import os\ntry:\n    from mlp import c\nexcept ImportError:\n    pass\n",
            "mlp/c.py": "from . import a\n",
        },
    )
    assert import_cycles(modules) == [
        "mlp.a -> mlp.b (src/mlp/a.py:1) -> mlp.c (src/mlp/b.py:3) -> mlp.a (src/mlp/c.py:1)"
    ]


def test_a_cycle_through_a_package_init_is_caught(tmp_path):
    # `from mlp.pkg import x` needs mlp.pkg's __init__ to have run: an edge to it.
    modules = plant(
        tmp_path,
        {
            "mlp/__init__.py": "",
            "mlp/pkg/__init__.py": "from mlp.pkg.user import use\n",
            "mlp/pkg/user.py": "from mlp.pkg import CONSTANT\n",
        },
    )
    assert import_cycles(modules) == [
        "mlp.pkg -> mlp.pkg.user (src/mlp/pkg/__init__.py:1) -> mlp.pkg (src/mlp/pkg/user.py:1)"
    ]


def test_function_level_and_type_checking_imports_make_no_cycle(tmp_path):
    modules = plant(
        tmp_path,
        {
            "mlp/__init__.py": "",
            "mlp/a.py": "from mlp import b\n",
            "mlp/b.py": """\
                from typing import TYPE_CHECKING
                if TYPE_CHECKING:
                    from mlp.a import Thing
                else:
                    import json

                def later():
                    from mlp import a  # deferred: runs after both modules are loaded
                """,
        },
    )
    assert import_cycles(modules) == []
    graph = import_graph(modules)
    assert sorted(graph["mlp.a"]) == ["mlp", "mlp.b"] and sorted(graph["mlp.b"]) == []


def test_an_all_naming_what_is_not_there_is_caught(tmp_path):
    modules = plant(
        tmp_path,
        {
            "mlp/__init__.py": "__all__ = ['sub', 'here', 'gone']\nhere = 1\n",
            "mlp/sub.py": """\
                import os.path
                from json import dumps as to_json
                try:
                    import tomllib
                except ImportError:
                    tomllib = None
                def f(): ...
                class C: ...
                A, (B, *C2) = 1, (2, 3)
                __all__ = ["os", "to_json", "tomllib", "f", "C", "A", "B", "C2", "missing"]
                """,
            "mlp/computed.py": "__all__ = [name for name in dir()]\n",
        },
    )
    assert bad_all_entries(modules) == [
        "src/mlp/__init__.py:1 'gone' in __all__ is not defined",
        "src/mlp/computed.py:1 __all__ is not a literal list of strings",
        "src/mlp/sub.py:10 'missing' in __all__ is not defined",
    ]
