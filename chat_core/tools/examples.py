"""Example tools, ready to add in the settings: weather, the calculator, a search stub."""

from __future__ import annotations

from chat_core.tools.definitions import ToolSpec

CALCULATOR = "calculator"

WEATHER = ToolSpec(
    "get_weather",
    "Get the current weather in a city.",
    {
        "type": "object",
        "properties": {
            "city": {"type": "string", "description": "The city, e.g. Paris"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        },
        "required": ["city"],
    },
)
CALCULATOR_TOOL = ToolSpec(
    CALCULATOR,
    "Evaluate an arithmetic expression (+ - * / // % **, parentheses, sqrt, pi).",
    {
        "type": "object",
        "properties": {"expression": {"type": "string", "description": "e.g. (2 + 3) * 4"}},
        "required": ["expression"],
    },
)
SEARCH = ToolSpec(
    "search_web",
    "Search the web and return the top results (a stub: you type the results).",
    {
        "type": "object",
        "properties": {"query": {"type": "string"}, "limit": {"type": "integer", "minimum": 1}},
        "required": ["query"],
    },
)
EXAMPLE_TOOLS: dict[str, ToolSpec] = {t.name: t for t in (WEATHER, CALCULATOR_TOOL, SEARCH)}
