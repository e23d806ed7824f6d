"""The built-in calculator: arithmetic on an expression, by walking its syntax tree.

No ``eval``: ``ast.parse(mode="eval")`` gives the tree and only numbers, the four
operations, ``//``, ``%``, ``**``, unary signs, parentheses, ``pi``/``e`` and a few
math functions are accepted; anything else (names, attributes, calls of other
functions, strings) is refused. Sizes are bounded so that ``9**9**9`` or a
million-digit number cannot stall the app: exponents, intermediate magnitudes and the
expression's length all have caps. Pure: no I/O.
"""

from __future__ import annotations

import ast
import json
import math
import operator
from collections.abc import Callable

from chat_core.errors import ValidationError

MAX_EXPRESSION_CHARS = 500
MAX_EXPONENT = 1_000
MAX_MAGNITUDE = 10**100
_BINARY: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_FUNCTIONS: dict[str, Callable[..., float]] = {
    "sqrt": math.sqrt,
    "abs": abs,
    "round": round,
    "min": min,
    "max": max,
    "floor": math.floor,
    "ceil": math.ceil,
    "log": math.log,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
}
_CONSTANTS = {"pi": math.pi, "e": math.e}


def _refuse(message: str) -> ValidationError:
    return ValidationError("expression", message)


def calculate(expression: str) -> float | int:
    """The value of an arithmetic expression; ValidationError for anything else."""
    if not isinstance(expression, str) or not expression.strip():
        raise _refuse("The expression is empty.")
    if len(expression) > MAX_EXPRESSION_CHARS:
        raise _refuse(f"The expression is over {MAX_EXPRESSION_CHARS} characters.")
    try:
        tree = ast.parse(expression.strip().replace("^", "**"), mode="eval")
        return _value(tree.body)
    except SyntaxError as exc:
        raise _refuse("That is not an arithmetic expression.") from exc
    except (ZeroDivisionError, OverflowError, ValueError, TypeError, RecursionError) as exc:
        raise _refuse(f"It cannot be computed: {type(exc).__name__}.") from exc


def _value(node: ast.expr) -> float | int:
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return _bounded(node.value)
    if isinstance(node, ast.Name) and node.id in _CONSTANTS:
        return _CONSTANTS[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        value = _value(node.operand)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _value(node.left), _value(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > MAX_EXPONENT:
            raise _refuse(f"Exponents are limited to {MAX_EXPONENT}.")
        if (
            isinstance(node.op, ast.Pow)
            and abs(left) > 1
            and abs(right) * math.log10(abs(left)) > 100
        ):
            raise _refuse("The result would be too large.")
        return _bounded(_BINARY[type(node.op)](left, right))
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in _FUNCTIONS
        and not node.keywords
        and 0 < len(node.args) <= 8
    ):
        return _bounded(_FUNCTIONS[node.func.id](*(_value(a) for a in node.args)))
    raise _refuse("Only numbers, + - * / // % ** and a few math functions are allowed.")


def _bounded(value: object) -> float | int:
    if isinstance(value, complex) or not isinstance(value, int | float):
        raise _refuse("The result is not a real number.")
    if isinstance(value, float) and not math.isfinite(value):
        raise _refuse("The result would be too large.")
    if abs(value) > MAX_MAGNITUDE:
        raise _refuse("The result would be too large.")
    return value


def run_calculator(arguments: str) -> str:
    """The calculator tool's result for a call's JSON arguments: ``{"result"}`` or ``{"error"}``."""
    try:
        args = json.loads(arguments or "{}")
        expression = args.get("expression") if isinstance(args, dict) else None
        if not isinstance(expression, str):
            raise _refuse('The arguments need an "expression" string.')
        value = calculate(expression)
    except json.JSONDecodeError:
        return json.dumps({"error": "The arguments are not JSON."})
    except ValidationError as exc:
        return json.dumps({"error": exc.message})
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        value = int(value)
    return json.dumps({"expression": expression, "result": value})
