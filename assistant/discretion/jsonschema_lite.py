"""A small JSON Schema (draft 2020-12 subset) checker, so validation needs no new dependency.

Supports: type, properties, required, additionalProperties, enum, const, pattern, minLength,
minimum, minItems, items, $ref (local "#/$defs/..."), anyOf.
Errors are (path, Chinese reason) pairs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

Path = tuple[str | int, ...]

_TYPE_NAMES = {
    "object": "映射",
    "array": "列表",
    "string": "字符串",
    "integer": "整数",
    "number": "数字",
    "boolean": "布尔值",
    "null": "空值",
}


def _is_type(value: Any, name: str) -> bool:
    if name == "object":
        return isinstance(value, Mapping)
    if name == "array":
        return isinstance(value, list)
    if name == "string":
        return isinstance(value, str)
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if name == "boolean":
        return isinstance(value, bool)
    if name == "null":
        return value is None
    raise ValueError(f"unsupported schema type {name}")


def _resolve(ref: str, root: Mapping[str, Any]) -> Mapping[str, Any]:
    if not ref.startswith("#/"):
        raise ValueError(f"only local $ref supported: {ref}")
    node: Any = root
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def iter_errors(
    instance: Any, schema: Mapping[str, Any], root: Mapping[str, Any] | None = None, path: Path = ()
) -> Iterator[tuple[Path, str]]:
    """Yield every violation of `schema` by `instance` as (path, reason)."""
    root = root if root is not None else schema
    if "$ref" in schema:
        yield from iter_errors(instance, _resolve(schema["$ref"], root), root, path)
        return
    if "anyOf" in schema:
        branches = [list(iter_errors(instance, sub, root, path)) for sub in schema["anyOf"]]
        if all(branches):
            best = min(branches, key=len)
            yield from best
        return
    expected = schema.get("type")
    if expected is not None:
        names = [expected] if isinstance(expected, str) else list(expected)
        if not any(_is_type(instance, n) for n in names):
            wanted = "或".join(_TYPE_NAMES.get(n, n) for n in names)
            got = type(instance).__name__
            hint = "（金额和倍数请加引号写成字符串）" if isinstance(instance, float) else ""
            yield path, f"应为{wanted}，实际为 {got}{hint}"
            return
    if "const" in schema and instance != schema["const"]:
        yield path, f"应为 {schema['const']!r}"
    if "enum" in schema and instance not in schema["enum"]:
        yield path, f"取值 {instance!r} 不在允许范围 {list(schema['enum'])} 内"
    if isinstance(instance, str) and len(instance) < schema.get("minLength", 0):
        yield path, "不能为空"
    if (
        isinstance(instance, str)
        and "pattern" in schema
        and re.search(schema["pattern"], instance) is None
    ):
        yield path, f"取值 {instance!r} 格式不符（应匹配 {schema['pattern']}）"
    if _is_type(instance, "number") and "minimum" in schema and instance < schema["minimum"]:
        yield path, f"取值 {instance!r} 小于最小值 {schema['minimum']}"
    if isinstance(instance, list):
        if len(instance) < schema.get("minItems", 0):
            yield path, f"至少需要 {schema['minItems']} 项"
        if "items" in schema:
            for idx, element in enumerate(instance):
                yield from iter_errors(element, schema["items"], root, (*path, idx))
    if isinstance(instance, Mapping):
        for key in schema.get("required", ()):
            if key not in instance:
                yield path, f"缺少必填字段 {key}"
        props: Mapping[str, Any] = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for key, value in instance.items():
            if key in props:
                yield from iter_errors(value, props[key], root, (*path, key))
            elif extra is False:
                yield (*path, key), f"不允许的字段 {key}"
            elif isinstance(extra, Mapping):
                yield from iter_errors(value, extra, root, (*path, key))
