"""The code's shape holds: short signatures, short modules, one training loop (ARCHITECTURE.md).

Options travel as objects (`StylizeOptions`, `AnimateOptions`), so no function below `cli/` needs a
long list of parameters; a module past 450 lines holds more than one job; and every training budget
in seconds is counted against the clock in one place, `core/run.py`, so the books (budget, pauses,
previews, checkpoints, the last save) are kept once.
"""

import ast
from pathlib import Path

import reanimate

SRC = Path(reanimate.__file__).parent
MAX_PARAMETERS = 12
MAX_LINES = 450
LOOP_HOME = SRC / "core" / "run.py"
CLOCKS = {"monotonic", "perf_counter", "time"}


def modules_below_cli() -> list[Path]:
    return [p for p in sorted(SRC.rglob("*.py")) if "cli" not in p.relative_to(SRC).parts]


def parameters(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    args = function.args
    names = [a.arg for a in args.posonlyargs + args.args + args.kwonlyargs]
    names += [a.arg for a in (args.vararg, args.kwarg) if a is not None]
    return [n for n in names if n not in ("self", "cls")]


def long_signatures(tree: ast.AST) -> list[str]:
    return [f"{node.name} ({len(parameters(node))})" for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and len(parameters(node)) > MAX_PARAMETERS]


def names_in(node: ast.AST) -> set[str]:
    return ({n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
            | {n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)})


def reads_clock(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in CLOCKS
               and isinstance(n.func.value, ast.Name) and n.func.value.id == "time" for n in ast.walk(node))


def budget_loops(tree: ast.AST) -> list[int]:
    """Lines where a seconds budget is held against the clock: a comparison that reads the clock (or
    an `elapsed` count) on one side and names a budget (`seconds`, `budget`) on the other."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            timed = any(reads_clock(s) or "elapsed" in names_in(s) for s in sides)
            budget = any(names_in(s) & {"seconds", "budget", "budget_seconds", "time_budget"} for s in sides)
            if timed and budget:
                found.append(node.lineno)
    return sorted(set(found))


def test_no_function_below_the_cli_takes_more_than_12_parameters():
    long = {str(p.relative_to(SRC)): found for p in modules_below_cli()
            if (found := long_signatures(ast.parse(p.read_text())))}
    assert not long, f"more than {MAX_PARAMETERS} parameters (pass an options object): {long}"


def test_no_module_is_longer_than_450_lines():
    long = {str(p.relative_to(SRC)): n for p in sorted(SRC.rglob("*.py")) if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines (give each job its room): {long}"


def test_one_module_owns_the_training_loop():
    assert budget_loops(ast.parse(LOOP_HOME.read_text())), "core/run.py no longer holds the budget loop"
    others = {str(p.relative_to(SRC)): lines for p in sorted(SRC.rglob("*.py"))
              if p != LOOP_HOME and (lines := budget_loops(ast.parse(p.read_text())))}
    assert not others, f"a second training loop holds a seconds budget against the clock (use core/run.train_loop): {others}"


def test_the_checks_find_what_they_look_for():
    loop = ast.parse("import time\nstart = time.monotonic()\nwhile time.monotonic() - start < seconds:\n    step()\n")
    assert budget_loops(loop) == [3]
    books = ast.parse("for step in range(9):\n    if books.elapsed >= budget.seconds:\n        break\n")
    assert budget_loops(books) == [2]
    assert not budget_loops(ast.parse("while time.monotonic() < deadline:\n    wait()\n"))  # no budget
    many = ast.parse("def f(" + ", ".join(f"a{i}" for i in range(13)) + "): pass\n"
                     "class A:\n    def g(self, " + ", ".join(f"b{i}" for i in range(12)) + "): pass\n")
    assert long_signatures(many) == ["f (13)"]
