"""The prompt workbench: what a person prototyping a prompt needs beside the chat.

code    View code: the request behind an answer as Python (``openai`` SDK) and curl,
        secrets as environment variable names, the owner's endpoints never written out
"""

from __future__ import annotations

from chat_core.workbench.code import Snippet, view_code

__all__ = ["Snippet", "view_code"]
