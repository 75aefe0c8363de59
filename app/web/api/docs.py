"""The API's docs page, rendered here from the OpenAPI document: no script, no CDN."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template
from flask.typing import ResponseReturnValue

bp = Blueprint("api_docs", __name__)
METHODS = ("get", "post", "put", "patch", "delete")


@bp.get("/api/docs")
def docs() -> ResponseReturnValue:
    spec = current_app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()
    schemas = spec.get("components", {}).get("schemas", {})
    return render_template(
        "api/docs.html",
        spec=spec,
        tags=_operations_by_tag(spec),
        schemas={name: _fields(schema) for name, schema in sorted(schemas.items())},
    )


def _operations_by_tag(
    spec: dict[str, Any],
) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    tags = {tag["name"]: (tag, []) for tag in spec.get("tags", [])}
    for path, item in spec.get("paths", {}).items():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            entry = {
                "method": method.upper(),
                "path": path,
                "id": f"{method}-{path}".replace("/", "-").replace(":", "-").strip("-"),
                "summary": operation.get("summary", ""),
                "description": operation.get("description", ""),
                "parameters": [
                    {**p, "type": _type(p.get("schema", {}))}
                    for p in item.get("parameters", [])
                    + operation.get("parameters", [])
                ],
                "body": _type(
                    operation.get("requestBody", {})
                    .get("content", {})
                    .get("application/json", {})
                    .get("schema", {})
                ),
                "responses": [
                    (code, _response(spec, response))
                    for code, response in operation.get("responses", {}).items()
                ],
            }
            for tag in operation.get("tags", ["API"]):
                tags.setdefault(tag, ({"name": tag}, []))[1].append(entry)
    return [(tag, entries) for tag, entries in tags.values() if entries]


def _response(spec: dict[str, Any], response: dict[str, Any]) -> dict[str, str]:
    if "$ref" in response:
        name = response["$ref"].rsplit("/", 1)[-1]
        response = spec.get("components", {}).get("responses", {}).get(name, {})
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    return {"description": response.get("description", ""), "type": _type(schema)}


def _fields(schema: dict[str, Any]) -> list[dict[str, Any]]:
    required = set(schema.get("required", []))
    return [
        {
            "name": name,
            "type": _type(prop),
            "required": name in required,
            "nullable": bool(prop.get("nullable")),
            "description": prop.get("description", ""),
            "enum": [
                value
                for value in prop.get("enum") or prop.get("items", {}).get("enum") or []
                if value is not None
            ],
            "limits": _limits(prop),
        }
        for name, prop in schema.get("properties", {}).items()
    ]


def _type(schema: dict[str, Any]) -> str:
    if not schema:
        return ""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if schema.get("type") == "array":
        return f"array of {_type(schema.get('items', {}))}"
    kind = str(schema.get("type", "object"))
    return f"{kind} ({schema['format']})" if "format" in schema else kind


def _limits(prop: dict[str, Any]) -> str:
    parts = [
        f"{label} {prop[key]}"
        for key, label in (
            ("minLength", "min length"),
            ("maxLength", "max length"),
            ("minimum", "min"),
            ("maximum", "max"),
            ("minItems", "min items"),
            ("maxItems", "max items"),
            ("pattern", "pattern"),
        )
        if key in prop
    ]
    return ", ".join(parts)
