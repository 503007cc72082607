"""Registering tools, prompts and resources with their docstring handed over as the description.

FastMCP reads a registered function's docstring with griffe, for Args/Returns sections ours do
not have (every parameter is described by its `Field`). Importing and running griffe took about
45 ms of the MCP Lambda's cold start; a function with no docstring skips it, so the docstring
is moved into the `description` FastMCP would have made of it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def described(register: Callable[..., Any], *args: Any, **options: Any) -> Callable[[F], Any]:
    """`register(*args, description=<fn's docstring>, **options)(fn)`, `fn` without docstring:
    e.g. `@described(mcp.tool, annotations=READ)` for `@mcp.tool(annotations=READ)`."""

    def apply(fn: F) -> Any:
        description = inspect.getdoc(fn)
        fn.__doc__ = None
        return register(*args, description=description, **options)(fn)

    return apply
