"""The REST API for people: `/api/v1/` (what is here, as JSON) and `/api/v1/docs`: Swagger UI
(interactive: try a call with your key) from the files the PyPI package `swagger-ui-py` ships, or,
without it, the OpenAPI document as one HTML page rendered here (`/api/v1/docs/plain`, no script).
Both work offline: nothing is fetched from another origin."""

from __future__ import annotations

import importlib.util
import json
import os
from html import escape
from typing import Any

# Swagger UI's files served from the installed package (the rest of it is not needed)
SWAGGER_FILES = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
}

METHODS = ("get", "post", "put", "patch", "delete")
STYLE = """
body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{margin-bottom:0}h2{margin-top:2.5rem;border-bottom:1px solid #ddd}
.op{border:1px solid #ddd;border-radius:6px;padding:.5rem 1rem;margin:1rem 0}
.method{display:inline-block;min-width:4.5rem;font-weight:700;text-transform:uppercase}
.get{color:#0a7}.post{color:#07c}.put{color:#b70}.patch{color:#a5a}.delete{color:#c33}
code,pre{font:13px/1.4 ui-monospace,monospace;background:#f6f6f6}pre{padding:.5rem;overflow:auto}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left}
"""


def anchor(method: str, path: str) -> str:
    """The id of an operation's section: `get-pages-path`."""
    words = "".join(c if c.isalnum() else "-" for c in path.lower()).strip("-")
    return f"{method}-{'-'.join(w for w in words.split('-') if w)}"


def index(document: dict[str, Any], base: str) -> dict[str, Any]:
    """`GET /api/v1/`: the API's name and version, where its reference is, and every route."""
    routes = [
        {"method": m.upper(), "path": path, "summary": op.get("summary", "")}
        for path, item in document.get("paths", {}).items()
        for m, op in item.items()
        if m in METHODS
    ]
    return {
        "name": document["info"]["title"],
        "version": document["info"]["version"],
        "docs": f"{base}/docs",
        "openapi": f"{base}/openapi.json",
        "authentication": "Authorization: Bearer <API key> (read, write or admin scope)",
        "routes": routes,
    }


def render(document: dict[str, Any]) -> str:
    """The whole reference as one HTML page."""
    info = document["info"]
    toc, sections = [], []
    for path, item in document.get("paths", {}).items():
        for method, op in item.items():
            if method not in METHODS:
                continue
            ident = anchor(method, path)
            line = f'<span class="method {method}">{method}</span> <code>{escape(path)}</code>'
            toc.append(f'<li><a href="#{ident}">{line}</a> {escape(op.get("summary", ""))}</li>')
            sections.append(_operation(ident, line, op))
    return (
        "<!doctype html><html lang=en><meta charset=utf-8>"
        f"<title>{escape(info['title'])} reference</title><style>{STYLE}</style>"
        f"<h1>{escape(info['title'])}</h1><p>Version {escape(info['version'])}. "
        f"{escape(info.get('description', ''))}</p>"
        '<p>Every route but this page, <code>/health</code> and <a href="openapi.json">'
        "<code>openapi.json</code></a> needs <code>Authorization: Bearer &lt;API key&gt;"
        "</code>.</p>"
        f"<h2>Routes</h2><ul>{''.join(toc)}</ul><h2>Details</h2>{''.join(sections)}</html>"
    )


def _operation(ident: str, line: str, op: dict[str, Any]) -> str:
    parts = [f'<div class=op id="{ident}"><h3>{line}</h3><p>{escape(op.get("summary", ""))}</p>']
    params = op.get("parameters", [])
    if params:
        rows = "".join(
            f"<tr><td><code>{escape(p['name'])}</code></td><td>{escape(p['in'])}</td>"
            f"<td>{'yes' if p.get('required') else ''}</td>"
            f"<td>{escape(_type(p.get('schema', {})))}</td>"
            f"<td>{escape(p.get('description', ''))}</td></tr>"
            for p in params
        )
        parts.append(
            "<table><tr><th>parameter</th><th>in</th><th>required</th><th>type</th>"
            f"<th>meaning</th></tr>{rows}</table>"
        )
    body = op.get("requestBody", {}).get("content", {})
    for kind, media in body.items():
        schema = json.dumps(media.get("schema", {}), indent=2)
        parts.append(f"<p>Body ({escape(kind)}):</p><pre>{escape(schema)}</pre>")
    answers = op.get("responses", {})
    listed = "".join(
        f"<li><code>{escape(code)}</code> {escape(r.get('description', ''))}</li>"
        for code, r in answers.items()
    )
    parts.append(f"<p>Answers:</p><ul>{listed}</ul></div>")
    return "".join(parts)


def _type(schema: dict[str, Any]) -> str:
    kind = schema.get("type", "")
    if "enum" in schema:
        return " | ".join(str(v) for v in schema["enum"])
    return " | ".join(kind) if isinstance(kind, list) else str(kind)


def swagger_folder() -> str | None:
    """Swagger UI's files from `swagger-ui-py` (the `docs` extra), when installed: found, not
    imported (its package imports web-framework handlers)."""
    spec = importlib.util.find_spec("swagger_ui")
    for root in (spec.submodule_search_locations or []) if spec else []:
        folder = os.path.join(root, "static")
        if all(os.path.isfile(os.path.join(folder, name)) for name in SWAGGER_FILES):
            return folder
    return None


def interactive(document: dict[str, Any], openapi_url: str, assets: str, plain: str) -> str:
    """Swagger UI on the document; `validatorUrl: null`, else it shows a badge fetched from
    validator.swagger.io."""
    title = escape(f"{document['info']['title']} reference")
    config = json.dumps(
        {"url": openapi_url, "dom_id": "#swagger-ui", "deepLinking": True, "validatorUrl": None}
    ).replace("</", "<\\/")
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f'<link rel="stylesheet" href="{assets}/swagger-ui.css">'
        f'<link rel="icon" href="{assets}/favicon-32x32.png"></head><body>'
        f'<noscript><p>Swagger UI needs JavaScript: read the <a href="{plain}">plain '
        "reference</a>.</p></noscript>"
        f'<div id="swagger-ui"></div><script src="{assets}/swagger-ui-bundle.js"></script>'
        f"<script>window.ui = SwaggerUIBundle({config});</script></body></html>"
    )
