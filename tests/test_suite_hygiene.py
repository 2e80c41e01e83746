"""Rules the code and the tests keep, checked by reading their source with `ast`: every
`pytest.raises` names the message it expects, and no handler in `src/mlp` catches every
exception without saying why."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
SOURCE = ROOT / "src" / "mlp"

MESSAGELESS = {"KeyboardInterrupt", "SystemExit"}
"""Exceptions with no message to match: Ctrl-C carries none, and SystemExit carries an
exit status, which the tests check through the `ExceptionInfo`."""

BLIND = {"Exception", "BaseException"}


def _python_files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


def _is_pytest_raises(call: ast.Call) -> bool:
    func = call.func
    if isinstance(func, ast.Attribute):
        return (
            func.attr == "raises" and isinstance(func.value, ast.Name) and func.value.id == "pytest"
        )
    return isinstance(func, ast.Name) and func.id == "raises"


def _raises_without_match(path: Path, root: Path = ROOT) -> Iterator[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not _is_pytest_raises(node):
            continue
        if any(keyword.arg == "match" for keyword in node.keywords):
            continue
        expected = node.args[0] if node.args else None
        if isinstance(expected, ast.Name) and expected.id in MESSAGELESS:
            continue
        yield f"{path.relative_to(root)}:{node.lineno}: {ast.unparse(node)}"


def test_every_pytest_raises_names_the_expected_message():
    """An exception of the right type with the wrong message is a bug the test misses."""
    missing = [line for path in _python_files(TESTS) for line in _raises_without_match(path)]
    assert not missing, "pytest.raises without match=:\n" + "\n".join(missing)


def _names(expression: ast.expr | None) -> set[str]:
    """The exception names an `except` clause (or a `suppress(...)` argument) catches."""
    if expression is None:
        return {"<bare>"}
    items = expression.elts if isinstance(expression, ast.Tuple) else [expression]
    return {item.id if isinstance(item, ast.Name) else ast.unparse(item) for item in items}


def _reraises(handler: ast.ExceptHandler) -> bool:
    """Whether the handler ends by raising the exception it caught again (cleanup)."""
    last = handler.body[-1]
    return isinstance(last, ast.Raise) and last.exc is None


def _is_suppress(call: ast.Call) -> bool:
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return name == "suppress"


def _blind_handlers(path: Path) -> Iterator[tuple[int, str]]:
    """(line, what) of each handler of `path` that catches everything: bare `except:`,
    `except Exception` / `BaseException` (alone or in a tuple) that does not re-raise,
    and `contextlib.suppress(Exception)`."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.ExceptHandler):
            caught = _names(node.type)
            if caught & (BLIND | {"<bare>"}) and not _reraises(node):
                yield node.lineno, f"except {', '.join(sorted(caught))}"
        elif isinstance(node, ast.Call) and _is_suppress(node):
            caught = set().union(*(_names(arg) for arg in node.args)) if node.args else set()
            if caught & BLIND:
                yield node.lineno, f"suppress({', '.join(sorted(caught))})"


def test_no_handler_in_src_hides_an_error_without_saying_why():
    """A handler that catches every exception hides the bugs among them. Where one is
    meant (a compile fallback that warns, a report that notes a missing figure, a fetch
    that tries the next source), a comment on its line says why; a bare `except:` is
    never allowed (it catches Ctrl-C too)."""
    unexplained = []
    for path in _python_files(SOURCE):
        lines = path.read_text(encoding="utf-8").splitlines()
        for lineno, what in _blind_handlers(path):
            line = lines[lineno - 1]
            where = f"{path.relative_to(ROOT)}:{lineno}: {what}"
            if what == "except <bare>" or "#" not in line:
                unexplained.append(where)
    assert not unexplained, (
        "catch-all handlers without a comment on their line saying why (or a bare "
        "except):\n" + "\n".join(unexplained)
    )


def test_the_hygiene_checks_see_what_they_look_for(tmp_path):
    """The scanners themselves: each finds a planted case and passes a good one."""
    tests = tmp_path / "test_x.py"
    tests.write_text(
        "import pytest\n"
        "def test_a():\n"
        "    with pytest.raises(ValueError):\n        pass\n"
        "    with pytest.raises(ValueError, match='m'):\n        pass\n"
        "    with pytest.raises(KeyboardInterrupt):\n        pass\n"
    )
    assert [line.split(":")[1] for line in _raises_without_match(tests, tmp_path)] == ["3"]
    source = tmp_path / "m.py"
    source.write_text(
        "import contextlib\n"
        "try:\n    pass\nexcept Exception:\n    pass\n"  # line 4: blind
        "try:\n    pass\nexcept BaseException:\n    raise\n"  # cleanup: fine
        "try:\n    pass\nexcept (OSError, Exception):  # why\n    pass\n"  # line 12
        "with contextlib.suppress(Exception):\n    pass\n"  # line 14
        "try:\n    pass\nexcept:\n    pass\n"  # line 18: bare
    )
    found = sorted(_blind_handlers(source))
    assert [line for line, _ in found] == [4, 12, 14, 18]
    assert found[-1][1] == "except <bare>"
