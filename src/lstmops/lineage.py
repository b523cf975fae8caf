"""Which of the package's modules a process can load: the closure of their imports, read from
the source (every `import` of the package, also inside functions).

dvc.yaml's code deps are computed from it (pipeline.py), and so is the fingerprint of the code
behind a validation outcome (validation.py), so both name the same files.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
SOURCE = PACKAGE.parent  # src/


def _file(name: str) -> Path:
    """The source file of module `name`, which exists."""
    path = _module_file(name)
    assert path is not None, name
    return path


def _module_file(name: str) -> Path | None:
    """The source file of module `name` of this package, or None if there is no such module."""
    path = SOURCE.joinpath(*name.split("."))
    for candidate in (path / "__init__.py", path.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def _imports(path: Path) -> set[str]:
    """The lstmops modules `path` imports anywhere (also inside functions); for the CLI, only at
    its top: it imports each command's module by name when that command runs."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if path.name == "__main__.py" else ast.walk(tree)
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "lstmops"}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("lstmops"):
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}  # submodules imported by name
    return {name for name in found if _module_file(name) is not None}


def closure(modules: list[str]) -> list[str]:
    """Every module file that importing `modules` can load (packages' __init__ files included),
    as paths relative to the project root."""
    seen: set[str] = set()
    todo = list(modules)
    while todo:
        name = todo.pop()
        parts = name.split(".")
        for i in range(1, len(parts) + 1):  # a module's packages are imported first
            parent = ".".join(parts[:i])
            if parent not in seen and _module_file(parent) is not None:
                seen.add(parent)
                todo += sorted(_imports(_file(parent)))
    root = SOURCE.parent
    return sorted(_file(name).relative_to(root).as_posix() for name in seen)
