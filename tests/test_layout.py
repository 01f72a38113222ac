"""The layout's import rules, read from the source (every import, at the top of a module or inside a function):

- `shared/` is what services have in common: it imports no service;
- a service (a folder under `services/`) imports its own modules, `shared` and the catalog, never another
  service: services talk over HTTP and events, with the payloads in `shared/schemas/`; the gateway is a service
  like the others here.
"""

import ast
import importlib.util
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SERVICES = sorted(p.name for p in (ROOT / "services").iterdir() if (p / "__init__.py").exists())


def imported(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every absolute import in the file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def breaches(folder: Path, allowed: Callable[[str], bool]) -> list[str]:
    return [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in sorted(folder.rglob("*.py"))
        for line, module in imported(path)
        if module.split(".")[0] == "services" and not allowed(module)
    ]


def test_there_are_services_to_check():
    assert {"gateway", "registry", "relief"} <= set(SERVICES)


def test_shared_imports_no_service():
    assert breaches(ROOT / "shared", lambda module: False) == []


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_imports_no_other_service(service):
    own = f"services.{service}"

    def allowed(module: str) -> bool:
        return module == "services.catalog" or module == own or module.startswith(own + ".")

    assert breaches(ROOT / "services" / service, allowed) == []


def test_the_rules_see_an_import_inside_a_function(tmp_path):
    module = tmp_path / "late.py"
    module.write_text("def f():\n    from services.relief.models import events\n    import services.registry\n")
    assert imported(module) == [(2, "services.relief.models"), (3, "services.registry")]


def test_no_test_module_imports_another():
    """Helpers shared between test modules live in `tests/support/`: a test module or a conftest.py imports no other
    module of `tests` than those, and `tests/support/` imports nothing of `tests` outside itself."""

    def support(module: str) -> bool:
        return module == "tests.support" or module.startswith("tests.support.")

    found = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in sorted((ROOT / "tests").rglob("*.py"))
        for line, module in imported(path)
        if module.startswith("tests.") and not support(module)
    ]
    assert found == []


@pytest.mark.parametrize(
    "script", sorted(str(p.relative_to(ROOT)) for p in (ROOT / "bench").rglob("*.py") if p.name != "__init__.py")
)
def test_every_benchmark_imports(script):
    """A benchmark is run by hand, not by the suite: importing it at least checks that what it uses still exists."""
    spec = importlib.util.spec_from_file_location(f"bench_check_{Path(script).stem}", ROOT / script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
