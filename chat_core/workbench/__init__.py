"""The prompt workbench: what a person prototyping a prompt needs beside the chat.

code    View code: the request behind an answer as Python (``openai`` SDK) and curl,
        secrets as environment variable names, the owner's endpoints never written out
variables  ``{{name}}`` in a prompt or system prompt: find, check, fill, and keep the
        template and values beside the stored message
structured a JSON schema checked and sent (response_format / text.format, or in the system
        prompt for servers that refuse it); answers validated with jsonschema
presets    named system prompt + back end + model + parameters per owner; export/import
"""

from __future__ import annotations

from chat_core.workbench.code import Snippet, view_code
from chat_core.workbench.presets import (
    Preset,
    deleted,
    export_presets,
    import_presets,
    load_presets,
    merged,
    renamed,
    save_presets,
    saved,
)
from chat_core.workbench.structured import (
    Validation,
    example_instance,
    parse_schema,
    structured_fell_back,
    validate_answer,
)
from chat_core.workbench.variables import (
    Filled,
    StoredTemplate,
    fill_templates,
    find_variables,
    has_placeholders,
    stored_template,
)

__all__ = [
    "Filled",
    "Preset",
    "Snippet",
    "StoredTemplate",
    "Validation",
    "deleted",
    "example_instance",
    "export_presets",
    "fill_templates",
    "find_variables",
    "has_placeholders",
    "import_presets",
    "load_presets",
    "merged",
    "parse_schema",
    "renamed",
    "save_presets",
    "saved",
    "stored_template",
    "structured_fell_back",
    "validate_answer",
    "view_code",
]
