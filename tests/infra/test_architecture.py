"""The layer's architecture (docs/architecture.md): rooms with one job, dependencies one way, no cycles.

import-linter (`make architecture`) checks the rooms' order and where boto3, the SDKs and the web framework may be
imported; these tests check what it cannot say: no cycle between single modules, thin functions, short modules, no
module that only re-exports another, and documents that name every room and function.
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import grimp

from dev.lambda_runtime import FUNCTIONS, FUNCTIONS_DIR, LAYER_DIR, REPO_ROOT

GATEWAY_DIR = LAYER_DIR / "gateway"
MAX_MODULE_LINES = 400
# One algorithm that needs its length: the geometry engine draws every primitive and transform.
LONG_MODULES_ALLOWED = {"geometry/engine.py": 900, "geometry/spec.py": 430}
FUNCTION_MAY_IMPORT = ("gateway.http", "gateway.endpoints", "gateway.core")


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def _layer_modules() -> list[Path]:
    return sorted(path for path in GATEWAY_DIR.rglob("*.py") if "__pycache__" not in path.parts)


def test_no_two_modules_of_the_layer_import_each_other_even_through_others() -> None:
    # Given the layer's import graph, imports made only for type checking aside
    graph = grimp.build_graph("gateway", exclude_type_checking_imports=True, cache_dir=None)
    # When its cycles are looked for
    cycles = _cycles(graph)
    # Then there are none
    assert cycles == []


def test_functions_import_only_http_endpoints_and_core() -> None:
    # Given each function's handler module
    reached: dict[str, list[str]] = {}
    for function in FUNCTIONS:
        tree = ast.parse((FUNCTIONS_DIR / function / "app.py").read_text())
        imported = [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
        imported += [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
        # When its imports of the layer are read
        wrong = [name for name in imported if name.startswith("gateway") and not name.startswith(FUNCTION_MAY_IMPORT)]
        if wrong:
            reached[function] = wrong
    # Then none reaches past the HTTP side, the endpoints and the core
    assert reached == {}


def test_no_module_of_the_layer_is_longer_than_about_400_lines() -> None:
    # Given every module of the layer, and the one algorithm allowed its length
    too_long = {}
    for path in _layer_modules():
        relative = path.relative_to(GATEWAY_DIR).as_posix()
        lines = len(path.read_text().splitlines())
        # When its length is measured
        if lines > LONG_MODULES_ALLOWED.get(relative, MAX_MODULE_LINES):
            too_long[relative] = lines
    # Then none is over its limit
    assert too_long == {}


def test_no_module_of_the_layer_only_re_exports_another() -> None:
    # Given every module of the layer
    empty = []
    for path in _layer_modules():
        body = ast.parse(path.read_text()).body
        statements = [
            node for node in body if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))
        ]
        # When its statements are read (its docstring aside)
        if statements and all(isinstance(node, ast.Import | ast.ImportFrom) for node in statements):
            empty.append(path.relative_to(GATEWAY_DIR).as_posix())
    # Then each one that imports something also defines something
    assert empty == []


def test_the_architecture_page_names_every_room_and_the_readme_every_function() -> None:
    # Given the rooms of the layer and the functions
    rooms = [*sorted(p.name for p in GATEWAY_DIR.iterdir() if (p / "__init__.py").is_file()), "observability"]
    architecture = (REPO_ROOT / "docs" / "architecture.md").read_text()
    readme = (REPO_ROOT / "README.md").read_text()
    # When the architecture page and the README are read
    unnamed_rooms = [room for room in rooms if not re.search(rf"`{room}/?`", architecture)]
    unnamed_functions = [f for f in FUNCTIONS if f"functions/{f}" not in readme]
    # Then each room is on the page and each function in the README
    assert unnamed_rooms == []
    assert unnamed_functions == []


def test_the_readme_table_names_every_endpoint_of_the_template() -> None:
    # Given every API route of the template (CORS preflights aside)
    from dev.local_api import routes_from_template

    routes = {(route.method, route.path) for route in routes_from_template() if route.method != "OPTIONS"}
    table = [line for line in (REPO_ROOT / "README.md").read_text().splitlines() if line.startswith("| `")]
    # When the README's endpoint table is read
    missing = sorted(
        f"{m} {p}" for m, p in routes if not any(f"{m} {p}`" in row or f"`{m} {p}" in row for row in table)
    )
    # Then each route has a row
    assert missing == []


def test_the_architecture_page_lists_every_module_of_each_room() -> None:
    # Given each room's modules, and the page's table of rooms
    rows = {
        match.group(1): match.group(0)
        for match in re.finditer(r"^\| `(\w+)/?` \|.*$", (REPO_ROOT / "docs" / "architecture.md").read_text(), re.M)
    }
    unlisted = {}
    for room in sorted(p for p in GATEWAY_DIR.iterdir() if (p / "__init__.py").is_file()):
        modules = sorted(m.stem for m in room.glob("*.py") if m.stem != "__init__")
        # When the room's row is read
        missing = [m for m in modules if f"`{m}`" not in rows.get(room.name, "")]
        if missing:
            unlisted[room.name] = missing
    # Then it names every module
    assert unlisted == {}


def test_every_error_code_is_on_the_answers_and_errors_page() -> None:
    # Given every error the gateway answers with, and the page that lists them
    from gateway.core import errors

    codes = {c.code for _, c in inspect.getmembers(errors, inspect.isclass) if issubclass(c, errors.GatewayError)}
    page = (REPO_ROOT / "docs" / "answers-and-errors.md").read_text()
    # Then each code is on it
    assert sorted(code for code in codes if f"`{code}`" not in page) == []
