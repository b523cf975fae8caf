"""The code's shape, held: no function over 60 lines, no import cycle between modules, and no task
module that imports a stage (tasks take tables and arrays; the stages do the I/O)."""

import ast
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[2] / "src"
LONGEST = 60


def _modules() -> dict[str, ast.Module]:
    found = {}
    for path in SOURCE.rglob("*.py"):
        name = ".".join(path.relative_to(SOURCE).with_suffix("").parts).removesuffix(".__init__")
        found[name] = ast.parse(path.read_text(encoding="utf-8"))
    return found


def _imports(tree: ast.Module, modules: set[str]) -> set[str]:
    """The package's modules `tree` imports anywhere (a name imported from a package counts as
    its submodule when there is one)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in modules:
            out.add(node.module)
            out |= {f"{node.module}.{a.name}" for a in node.names} & modules
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names} & modules
    return out


def test_no_function_is_longer_than_60_lines():
    long = [
        f"{name}.{node.name}: {node.end_lineno - node.lineno + 1} lines"
        for name, tree in _modules().items()
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > LONGEST
    ]
    assert not long, long


def test_no_import_cycle_and_no_task_imports_a_stage():
    modules = _modules()
    graph = {name: _imports(tree, set(modules)) - {name} for name, tree in modules.items()}
    assert not [
        (name, d) for name, deps in graph.items() for d in deps
        if name.startswith("lstmops.tasks") and d.startswith("lstmops.stages")
    ]  # fmt: skip

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            for d in graph[todo.pop()] - seen:
                if d == goal:
                    return True
                seen.add(d)
                todo.append(d)
        return False

    # a package importing its own submodule (and back) is how packages work, not a cycle
    cycles = [
        (name, d) for name, deps in graph.items() for d in deps
        if not d.startswith(f"{name}.") and not name.startswith(f"{d}.") and reaches(d, name)
    ]  # fmt: skip
    assert not cycles, cycles
