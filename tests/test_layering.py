"""Layering of forecastkit: nothing imports a higher layer, and no module imports itself back.

The checker reads the source with :mod:`ast` (importing would hide imports inside functions that
never ran) and collects every reference from one forecastkit module to another:

- ``import forecastkit.x`` and ``from forecastkit.x import y`` anywhere in a module, inside
  functions and ``if TYPE_CHECKING:`` blocks included (a type-only import is still a dependency);
  relative imports are resolved against the importing module's package;
- ``from forecastkit.x import y`` means the module ``forecastkit.x.y`` when that is a module,
  else ``forecastkit.x``;
- string literals that name a forecastkit module, as in ``importlib.import_module("...")`` or a
  registry of lazily loaded classes (a string that names a missing module is reported only when
  it is passed to ``import_module``/``__import__``, since other strings such as
  ``"forecastkit.json"`` are not module names);
- ``forecastkit.<name>`` attribute access on the top-level package, for the lazy names of its
  ``_LAZY`` table (``import forecastkit; forecastkit.backtest`` loads the evaluation layer).

The top-level ``forecastkit/__init__.py`` is the public facade: it loads every layer on attribute
access, so its own references are exempt; the test only checks that each module its ``_LAZY``
table names exists.
"""

from __future__ import annotations

import ast
from collections import deque
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

PACKAGE = "forecastkit"
PACKAGE_DIR = Path(__file__).resolve().parents[1] / PACKAGE

# Low to high. A module may import its own unit and any lower layer.
LAYERS: dict[str, int] = {
    "forecastkit.exceptions": 0,
    "forecastkit._compat": 1,  # private third-party names (scikit-learn, Keras) in one place
    "forecastkit._io": 1,  # checksummed, pickle-free folders (saved models, stored backtests)
    "forecastkit._optional": 1,  # optional dependencies (MLflow, Optuna, pyarrow) on demand
    "forecastkit.data": 2,
    "forecastkit.layers": 2,
    "forecastkit.metrics": 2,
    "forecastkit.datasets": 2,
    "forecastkit.forecasters": 3,
    "forecastkit.evaluation": 4,
    "forecastkit.export": 5,
    "forecastkit.cli": 5,
    "forecastkit.__main__": 6,  # `python -m forecastkit`: runs the command line
}

# Units of one layer are independent of each other, except these (importer, imported) pairs.
# The command line drives export; export must never need the command line.
SAME_LAYER_ALLOWED: set[tuple[str, str]] = {("forecastkit.cli", "forecastkit.export")}

IMPORT_FUNCTIONS = {"import_module", "__import__"}


@dataclass(frozen=True)
class Import:
    """One reference from module ``importer`` to module ``imported``, at ``file:line``."""

    importer: str
    imported: str
    file: str
    line: int


# --- collecting ------------------------------------------------------------------------------


def module_files(package_dir: Path) -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its ``__init__.py``)."""
    modules = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = path.relative_to(package_dir.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def display_path(path: Path, modules: dict[str, Path]) -> str:
    """``path`` relative to the folder that holds the package: ``forecastkit/data/frames.py``."""
    return path.relative_to(modules[PACKAGE].parents[1]).as_posix()


def is_package(module: str, modules: dict[str, Path]) -> bool:
    return modules[module].name == "__init__.py"


def lazy_table(facade_file: Path) -> dict[str, str]:
    """The facade's ``_LAZY`` table as public name -> module name."""
    for node in ast.walk(ast.parse(facade_file.read_text(), str(facade_file))):
        target = node.targets[0] if isinstance(node, ast.Assign) else getattr(node, "target", None)
        if isinstance(target, ast.Name) and target.id == "_LAZY":
            value = ast.literal_eval(node.value)
            return {name: entry[0] for name, entry in value.items()}
    return {}


def resolve_from(base: str, name: str, modules: dict[str, Path], lazy: dict[str, str]) -> str:
    """The module that ``from base import name`` loads."""
    if f"{base}.{name}" in modules:
        return f"{base}.{name}"
    if base == PACKAGE and name in lazy:
        return lazy[name]
    return base


def relative_base(importer: str, level: int, module: str | None, modules: dict[str, Path]) -> str:
    """The absolute package named by ``from <level dots><module> import ...`` in ``importer``."""
    package = importer if is_package(importer, modules) else importer.rpartition(".")[0]
    parts = package.split(".")
    base = ".".join(parts[: len(parts) - (level - 1)])
    return f"{base}.{module}" if module else base


def names_bound_to_facade(tree: ast.AST) -> set[str]:
    """Local names that hold the top-level package (``import forecastkit [as fk]``)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == PACKAGE and alias.asname:
                    names.add(alias.asname)
                elif alias.name.split(".")[0] == PACKAGE and not alias.asname:
                    names.add(PACKAGE)
    return names


def imports_of(importer: str, modules: dict[str, Path], lazy: dict[str, str]) -> list[Import]:
    """Every reference from ``importer`` to a forecastkit module (missing ones kept as named)."""
    path = modules[importer]
    tree = ast.parse(path.read_text(), str(path))
    facade_names = names_bound_to_facade(tree)
    found: list[tuple[str, int]] = []

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = relative_base(importer, node.level, node.module, modules)
            else:
                base = node.module or ""
            if base == PACKAGE or base.startswith(PACKAGE + "."):
                found += [
                    (resolve_from(base, alias.name, modules, lazy), node.lineno)
                    for alias in node.names
                ]
        elif isinstance(node, ast.Call) and _called_name(node) in IMPORT_FUNCTIONS:
            first = node.args[0] if node.args else None
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.append((first.value, node.lineno))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if node.value in modules:
                found.append((node.value, node.lineno))
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in facade_names
            and node.attr in lazy
        ):
            found.append((lazy[node.attr], node.lineno))

    in_package = {
        (name, line) for name, line in found if name.split(".")[0] == PACKAGE and name != importer
    }
    file = display_path(path, modules)
    return [Import(importer, name, file, line) for name, line in sorted(in_package)]


def _called_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


# --- checking --------------------------------------------------------------------------------


def unit_of(module: str) -> str:
    """``forecastkit.data.frames`` -> ``forecastkit.data``: the part a layer is assigned to."""
    return ".".join(module.split(".")[:2])


def describe(module: str) -> str:
    layer = LAYERS.get(unit_of(module))
    return f"{module} (layer {layer})" if layer is not None else f"{module} (no layer)"


def layer_violations(imports: list[Import], modules: dict[str, Path]) -> list[str]:
    """Imports of a higher layer, of another unit of the same layer, or of a missing module."""
    problems = []
    for imp in imports:
        where = f"{imp.file}:{imp.line}: {describe(imp.importer)} -> {describe(imp.imported)}"
        src, dst = unit_of(imp.importer), unit_of(imp.imported)
        if imp.imported not in modules:
            problems.append(f"{where}: no such module")
        elif imp.imported == PACKAGE or src == dst:
            continue  # the facade only loads exceptions eagerly; lazy names are resolved above
        elif src not in LAYERS or dst not in LAYERS:
            continue  # reported once per unit below
        elif LAYERS[dst] > LAYERS[src]:
            problems.append(f"{where}: imports a higher layer")
        elif LAYERS[dst] == LAYERS[src] and (src, dst) not in SAME_LAYER_ALLOWED:
            problems.append(f"{where}: imports another unit of its own layer")
    for unit in sorted({unit_of(m) for m in modules} - set(LAYERS) - {PACKAGE}):
        problems.append(f"{unit}: not assigned to a layer in LAYERS")
    return problems


def cycle_violations(imports: list[Import], modules: dict[str, Path]) -> list[str]:
    """One shortest cycle through each module that lies on one, each cycle reported once.

    A package's ``__init__`` importing its own submodules is how packages re-export names, and
    is left out of the graph; every other edge counts.
    """
    first_seen: dict[tuple[str, str], Import] = {}
    for imp in imports:
        reexport = is_package(imp.importer, modules) and imp.imported.startswith(imp.importer + ".")
        if imp.imported in modules and not reexport:
            first_seen.setdefault((imp.importer, imp.imported), imp)
    graph: dict[str, set[str]] = {}
    for src, dst in first_seen:
        graph.setdefault(src, set()).add(dst)

    reported: set[tuple[str, ...]] = set()
    problems = []
    for start in sorted(graph):
        cycle = shortest_cycle(graph, start)
        if cycle is None:
            continue
        rotation = cycle.index(min(cycle))
        key = tuple(cycle[rotation:] + cycle[:rotation])
        if key in reported:
            continue
        reported.add(key)
        path = list(key) + [key[0]]
        edges = [first_seen[edge] for edge in pairwise(path)]
        where = ", ".join(f"{e.file}:{e.line}" for e in edges)
        problems.append(f"import cycle: {' -> '.join(path)} ({where})")
    return problems


def shortest_cycle(graph: dict[str, set[str]], start: str) -> list[str] | None:
    """The modules of a shortest path from ``start`` back to itself (breadth first), or None."""
    came_from: dict[str, str] = {}
    queue = deque(sorted(graph.get(start, ())))
    for node in queue:
        came_from[node] = start
    while queue:
        node = queue.popleft()
        if node == start:
            backwards = []
            step = came_from[start]
            while step != start:
                backwards.append(step)
                step = came_from[step]
            return [start, *reversed(backwards)]
        for nxt in sorted(graph.get(node, ())):
            if nxt not in came_from:
                came_from[nxt] = node
                queue.append(nxt)
    return None


def facade_violations(modules: dict[str, Path], lazy: dict[str, str]) -> list[str]:
    """Entries of the facade's ``_LAZY`` table that name a module that does not exist."""
    facade_file = display_path(modules[PACKAGE], modules)
    if not lazy:
        return [f"{facade_file}: no _LAZY table found"]
    return [
        f"{facade_file}: _LAZY[{name!r}] names {module}, which does not exist"
        for name, module in lazy.items()
        if module not in modules
    ]


def find_violations(package_dir: Path = PACKAGE_DIR) -> list[str]:
    """Every layering, cycle and facade problem of the package at ``package_dir``."""
    modules = module_files(package_dir)
    lazy = lazy_table(modules[PACKAGE])
    imports = [
        imp
        for module in modules
        if module != PACKAGE  # the facade is exempt (see the module docstring)
        for imp in imports_of(module, modules, lazy)
    ]
    return (
        facade_violations(modules, lazy)
        + layer_violations(imports, modules)
        + cycle_violations(imports, modules)
    )


# --- tests -----------------------------------------------------------------------------------


def test_no_upward_imports_and_no_cycles():
    violations = find_violations()
    assert not violations, f"{len(violations)} layering problem(s):\n" + "\n".join(violations)


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_checker_reports_upward_import_cycle_and_missing_lazy_module(tmp_path):
    _write(
        tmp_path,
        {
            "forecastkit/__init__.py": '_LAZY = {"data": ("forecastkit.data", None),\n'
            '         "gone": ("forecastkit.gone", None)}\n',
            "forecastkit/exceptions.py": "",
            "forecastkit/layers.py": "import forecastkit.data\n",  # same layer, another unit
            # re-exports from its own submodules: not a cycle
            "forecastkit/data/__init__.py": "from forecastkit.data.frames import Panel\n",
            "forecastkit/data/frames.py": (
                "from forecastkit.exceptions import X\n"
                "def f():\n"
                "    from forecastkit.evaluation import backtest\n"  # upward, inside a function
            ),
            "forecastkit/forecasters/__init__.py": "",
            "forecastkit/forecasters/a.py": "from . import b\n",
            "forecastkit/forecasters/b.py": (
                "import importlib\n"
                "def g():\n"
                '    return importlib.import_module("forecastkit.forecasters.a")\n'
            ),
            "forecastkit/evaluation/__init__.py": "",
            "forecastkit/evaluation/backtest.py": "from forecastkit.forecasters import a\n",
        },
    )
    violations = find_violations(tmp_path / "forecastkit")
    assert violations == [
        "forecastkit/__init__.py: _LAZY['gone'] names forecastkit.gone, which does not exist",
        "forecastkit/data/frames.py:3: forecastkit.data.frames (layer 2) -> "
        "forecastkit.evaluation.backtest (layer 4): imports a higher layer",
        "forecastkit/layers.py:1: forecastkit.layers (layer 2) -> forecastkit.data (layer 2): "
        "imports another unit of its own layer",
        "import cycle: forecastkit.forecasters.a -> forecastkit.forecasters.b -> "
        "forecastkit.forecasters.a "
        "(forecastkit/forecasters/a.py:1, forecastkit/forecasters/b.py:3)",
    ]
