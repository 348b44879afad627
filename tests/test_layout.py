"""The package layout holds: no import cycles, layers import only downward, the face layer starts without torch.

Layers, bottom up (ARCHITECTURE.md): core → io, nn → metrics → faces, stylize → talking_head → app → api → cli.
A module may import its own package and any lower layer; never a higher one or a sibling of its rank.
"""

import ast
import subprocess
import sys
from pathlib import Path

import reanimate

SRC = Path(reanimate.__file__).parent
RANK = {"core": 0, "io": 1, "nn": 1, "metrics": 2, "faces": 3, "stylize": 3, "talking_head": 4, "app": 5,
        "api": 6, "cli": 7, "__init__": 0, "__main__": 8}


def module_name(path: Path) -> str:
    parts = ["reanimate", *path.relative_to(SRC).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """{module: modules it imports}, from every import statement (also those inside functions)."""
    modules = {module_name(p): p for p in SRC.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        edges = set()
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                edges |= {a.name for a in node.names if a.name in modules}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1] + [base]).strip(".")
                if not base.startswith("reanimate"):
                    continue
                for alias in node.names:  # `from pkg import submodule` imports the submodule
                    edges.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base)
        graph[name] = edges - {name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = 2
        path.pop()
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_no_import_cycles():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_layers_import_only_downward():
    wrong = [f"{src} imports {dst}" for src, dsts in import_graph().items() for dst in dsts
             if layer(src) != layer(dst) and RANK[layer(dst)] >= RANK[layer(src)] and layer(dst) != "__init__"]
    assert not wrong, "\n".join(wrong)


def test_every_package_has_a_rank():
    packages = {p.name for p in SRC.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    modules = {p.stem for p in SRC.glob("*.py")}
    assert packages | modules <= set(RANK)


def test_face_data_layer_starts_without_torch():
    modules = [f"reanimate.faces.{p.stem}" for p in (SRC / "faces").glob("*.py") if p.stem not in ("__init__", "episodes")]
    code = f"import sys\nimport {', '.join(modules)}\nprint('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False", f"importing the face data layer loaded torch ({modules})"
