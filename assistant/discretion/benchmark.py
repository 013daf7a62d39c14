"""Discretion benchmark tables (裁量基准): typed items and tiers, loaded and validated from YAML.

Validation reports the file, the line (from YAML node marks) and the reason, so an officer who
edits a benchmark can find the mistake without reading Python.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from jsonschema import Draft202012Validator, ValidationError
from jsonschema.validators import extend

from assistant.config import BUNDLED_CORPUS
from assistant.errors import InvalidInput
from assistant.taxonomy import load_taxonomy

DEFAULT_BENCHMARK = BUNDLED_CORPUS / "discretion" / "benchmark_sample.yaml"
SCHEMA_PATH = BUNDLED_CORPUS / "discretion" / "benchmark.schema.json"

Base = Literal["tax_unpaid", "illegal_gains", "invoice_amount"]
RangeKind = Literal["fixed", "multiple", "no_penalty"]
JsonPath = tuple[str | int, ...]

_NUMERIC_FIELDS = ("days_overdue", "tax_unpaid", "invoice_amount", "illegal_gains", "occurrences")
_OPS = {
    "gte": lambda a, b: a >= b,
    "gt": lambda a, b: a > b,
    "lte": lambda a, b: a <= b,
    "lt": lambda a, b: a < b,
    "eq": lambda a, b: a == b,
}
_OP_ZH = {"gte": "≥", "gt": ">", "lte": "≤", "lt": "<", "eq": "="}
FIELD_ZH = {
    "days_overdue": "逾期天数",
    "tax_unpaid": "税款基数",
    "invoice_amount": "发票金额",
    "illegal_gains": "违法所得",
    "occurrences": "违法次数",
    "corrected_in_time": "及时改正",
    "first_violation": "首次违法",
    "harm": "危害后果",
    "taxpayer_type": "当事人类型",
    "party_role": "当事人身份",
    "factors_any": "情节（任一）",
    "factors_none": "情节（均无）",
}


@dataclass(frozen=True)
class Condition:
    """One measurable condition (适用条件) on a case attribute."""

    field: str
    op: str
    value: Any

    def matches(self, case: object) -> bool:
        actual = getattr(case, self.field)
        if self.field in _NUMERIC_FIELDS:
            return bool(_OPS[self.op](Decimal(actual), self.value))
        if self.op == "in":
            return actual in self.value
        if self.op == "any":
            return any(code in actual for code in self.value)
        if self.op == "none":
            return not any(code in actual for code in self.value)
        return bool(actual == self.value)

    def describe(self) -> str:
        label = FIELD_ZH.get(self.field, self.field)
        if self.op in _OP_ZH:
            return f"{label}{_OP_ZH[self.op]}{self.value}"
        if isinstance(self.value, tuple):
            return f"{label}：{'、'.join(str(v) for v in self.value)}"
        if isinstance(self.value, bool):
            return f"{label}：{'是' if self.value else '否'}"
        return f"{label}：{self.value}"


def conditions_match(conditions: tuple[Condition, ...], case: object) -> bool:
    return all(c.matches(case) for c in conditions)


@dataclass(frozen=True)
class PenaltyRange:
    kind: RangeKind
    min: Decimal | None = None
    max: Decimal | None = None
    base: Base | None = None
    ground: tuple[str, ...] = ()


@dataclass(frozen=True)
class Tier:
    name: str
    penalty: PenaltyRange
    when: tuple[Condition, ...] = ()
    standard: str = ""


@dataclass(frozen=True)
class BenchmarkItem:
    id: str
    number: int
    violation: str
    basis: tuple[str, ...]
    statutory: PenaltyRange
    tiers: tuple[Tier, ...]
    effective_from: date
    source: str
    title: str = ""
    base_label: str = ""
    applies_when: tuple[Condition, ...] = ()
    effective_to: date | None = None
    statute_from: date | None = None
    statute_to: date | None = None

    def in_force_on(self, decision_date: date) -> bool:
        """The benchmark item is applied when deciding."""
        return self.effective_from <= decision_date and (
            self.effective_to is None or decision_date <= self.effective_to
        )

    def statute_in_force_on(self, day: date) -> bool:
        """Statute version the item encodes (行政处罚法第三十七条: law at the time of the act)."""
        if self.statute_from is not None and day < self.statute_from:
            return False
        return self.statute_to is None or day <= self.statute_to


@dataclass(frozen=True)
class Benchmark:
    name: str
    sample: bool
    items: tuple[BenchmarkItem, ...]
    note: str = ""
    version: str = ""
    path: Path | None = None
    publication: str = ""  # 国家税务总局XX省税务局公告2024年第1号: cited with the name

    def items_for(self, violation: str) -> tuple[BenchmarkItem, ...]:
        return tuple(item for item in self.items if item.violation == violation)


class _Loader(yaml.SafeLoader):
    """SafeLoader that keeps dates as strings, so the schema sees what the file says."""


_Loader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _format_path(path: JsonPath) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "<根>"


def _line_of(node: yaml.Node | None, path: JsonPath) -> int:
    """1-based line of the node at `path` (the deepest one that exists)."""
    if node is None:
        return 1
    current = node
    for part in path:
        nxt: yaml.Node | None = None
        if isinstance(current, yaml.MappingNode):
            for key_node, value_node in current.value:
                if key_node.value == part:
                    nxt = value_node
                    break
        elif (
            isinstance(current, yaml.SequenceNode)
            and isinstance(part, int)
            and 0 <= part < len(current.value)
        ):
            nxt = current.value[part]
        if nxt is None:
            break
        current = nxt
    return int(current.start_mark.line) + 1


def _invalid(file: str, line: int, path: JsonPath, reason: str, errors: list[Any]) -> InvalidInput:
    return InvalidInput(
        "invalid_benchmark",
        f"裁量基准文件 {file} 第{line}行（{_format_path(path)}）：{reason}",
        details={
            "file": file,
            "line": line,
            "path": _format_path(path),
            "reason": reason,
            "errors": errors[:20],
        },
    )


@lru_cache(maxsize=1)
def load_schema() -> dict[str, Any]:
    with SCHEMA_PATH.open(encoding="utf-8") as fh:
        schema: dict[str, Any] = json.load(fh)
    return schema


_TYPE_NAMES = {
    "object": "映射",
    "array": "列表",
    "string": "字符串",
    "integer": "整数",
    "number": "数字",
    "boolean": "布尔值",
    "null": "空值",
}
# JSON Schema counts 2.0 as an integer; a YAML 2.0 is a float an officer should write as 2.
_Validator = extend(
    Draft202012Validator,
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine(
        "integer", lambda _, value: isinstance(value, int) and not isinstance(value, bool)
    ),
)


@lru_cache(maxsize=1)
def _validator() -> Any:
    schema = load_schema()
    _Validator.check_schema(schema)
    return _Validator(schema)


def _reasons(error: ValidationError) -> list[tuple[JsonPath, str]]:
    """One jsonschema error as (path, Chinese reason) pairs an officer can act on."""
    path: JsonPath = tuple(error.absolute_path)
    kind, expected, value = error.validator, error.validator_value, error.instance
    if kind == "anyOf":
        # the alternative that came closest (fewest errors) says what to fix
        branches: dict[Any, list[ValidationError]] = {}
        for sub in error.context or ():
            branches.setdefault(sub.schema_path[0], []).append(sub)
        best = min(branches.values(), key=len, default=[])
        return [r for sub in best for r in _reasons(sub)]
    if kind == "type":
        names = [expected] if isinstance(expected, str) else list(expected)
        hint = "（金额和倍数请加引号写成字符串）" if isinstance(value, float) else ""
        wanted = "或".join(_TYPE_NAMES.get(n, n) for n in names)
        return [(path, f"应为{wanted}，实际为 {type(value).__name__}{hint}")]
    if kind == "required":
        return [(path, f"缺少必填字段 {key}") for key in expected if key not in value]
    if kind == "additionalProperties":
        known = error.schema.get("properties", {})
        return [((*path, key), f"不允许的字段 {key}") for key in value if key not in known]
    reasons = {
        "const": lambda: f"应为 {expected!r}",
        "enum": lambda: f"取值 {value!r} 不在允许范围 {list(expected)} 内",
        "minLength": lambda: "不能为空",
        "pattern": lambda: f"取值 {value!r} 格式不符（应匹配 {expected}）",
        "minimum": lambda: f"取值 {value!r} 小于最小值 {expected}",
        "minItems": lambda: f"至少需要 {expected} 项",
    }
    return [(path, reasons[kind]() if kind in reasons else error.message)]


def schema_errors(data: Any) -> list[tuple[JsonPath, str]]:
    """Every violation of the benchmark schema (jsonschema, draft 2020-12), in Chinese."""
    out: list[tuple[JsonPath, str]] = []
    for error in _validator().iter_errors(data):
        for reason in _reasons(error):
            if reason not in out:  # `required` lists all missing keys on each of its errors
                out.append(reason)
    return out


def _read(path: Path) -> tuple[Any, yaml.Node | None]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(
            "invalid_benchmark",
            f"无法读取裁量基准文件 {path}：{exc.strerror}",
            details={"file": str(path), "line": None, "reason": str(exc)},
        ) from exc
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = int(mark.line) + 1 if mark is not None else 1
        reason = f"YAML 语法错误：{getattr(exc, 'problem', exc)}"
        raise _invalid(str(path), line, (), reason, []) from exc
    finally:
        loader.dispose()
    return data, node


def _dec(raw: Any) -> Decimal:
    return Decimal(str(raw))


def _parse_conditions(raw: Mapping[str, Any] | None) -> tuple[Condition, ...]:
    out: list[Condition] = []
    for field_name, spec in (raw or {}).items():
        if field_name in _NUMERIC_FIELDS:
            out.extend(Condition(field_name, op, _dec(v)) for op, v in spec.items())
        elif field_name == "harm":
            out.append(Condition("harm", "in", tuple(spec)))
        elif field_name == "factors_any":
            out.append(Condition("factors", "any", tuple(spec)))
        elif field_name == "factors_none":
            out.append(Condition("factors", "none", tuple(spec)))
        else:
            out.append(Condition(field_name, "eq", spec))
    return tuple(out)


def _parse_range(raw: Mapping[str, Any]) -> PenaltyRange:
    return PenaltyRange(
        kind=raw["kind"],
        min=None if raw.get("min") is None else _dec(raw["min"]),
        max=None if raw.get("max") is None else _dec(raw["max"]),
        base=raw.get("base"),
        ground=tuple(raw.get("ground") or ()),
    )


def _semantic_errors(data: Mapping[str, Any]) -> list[tuple[JsonPath, str]]:
    """Checks JSON Schema cannot express: ranges inside the statute, kinds, codes, uniqueness."""
    errors: list[tuple[JsonPath, str]] = []
    codes = load_taxonomy()
    seen_ids: set[str] = set()
    for i, item in enumerate(data["items"]):
        at: JsonPath = ("items", i)
        if item["id"] in seen_ids:
            errors.append(((*at, "id"), f"条目编号 {item['id']} 重复"))
        seen_ids.add(item["id"])
        if item["violation"] not in codes:
            errors.append(((*at, "violation"), f"未知的违法行为代码 {item['violation']}"))
        for key in ("effective_from", "effective_to"):
            if item.get(key) is not None:
                try:
                    date.fromisoformat(item[key])
                except ValueError:
                    errors.append(((*at, key), f"日期 {item[key]} 无效"))
        stat = item["statutory"]
        if stat["kind"] == "no_penalty":
            errors.append(((*at, "statutory", "kind"), "法定幅度不能是 no_penalty"))
            continue
        stat_errors = _range_errors(stat, (*at, "statutory"))
        errors.extend(stat_errors)
        if stat_errors:
            continue
        lo, hi = _dec(stat["min"]), _dec(stat["max"])
        for j, tier in enumerate(item["tiers"]):
            pen = tier["penalty"]
            where: JsonPath = (*at, "tiers", j, "penalty")
            if pen["kind"] == "no_penalty":
                if not pen.get("ground"):
                    errors.append(((*where, "ground"), "不予处罚阶次必须写明法律依据 ground"))
                continue
            range_errors = _range_errors(pen, where)
            errors.extend(range_errors)
            if range_errors:
                continue
            if pen["kind"] != stat["kind"] or pen.get("base") != stat.get("base"):
                errors.append(((*where, "kind"), "阶次幅度的类型或基数与法定幅度不一致"))
            elif _dec(pen["min"]) < lo or _dec(pen["max"]) > hi:
                errors.append((where, f"阶次幅度 {pen['min']}–{pen['max']} 超出法定幅度 {lo}–{hi}"))
    return errors


def _range_errors(raw: Mapping[str, Any], where: JsonPath) -> list[tuple[JsonPath, str]]:
    errors: list[tuple[JsonPath, str]] = []
    for key in ("min", "max"):
        if raw.get(key) is None:
            errors.append((where, f"缺少 {key}"))
    if raw["kind"] == "multiple" and raw.get("base") is None:
        errors.append((where, "倍数幅度必须写明基数 base"))
    if raw["kind"] == "fixed" and raw.get("base") is not None:
        errors.append(((*where, "base"), "固定金额幅度不应有基数 base"))
    if not errors and _dec(raw["min"]) > _dec(raw["max"]):
        errors.append((where, f"下限 {raw['min']} 大于上限 {raw['max']}"))
    return errors


def _check(data: Any, node: yaml.Node | None, file: str) -> None:
    problems = schema_errors(data)
    if not problems:
        problems = _semantic_errors(data)
    if problems:
        listed = [
            {"line": _line_of(node, p), "path": _format_path(p), "reason": r} for p, r in problems
        ]
        path, reason = problems[0]
        raise _invalid(file, _line_of(node, path), path, reason, listed)


def validate_benchmark_file(path: Path) -> None:
    """Raise InvalidInput(invalid_benchmark) naming file, line and reason; return None if valid."""
    data, node = _read(path)
    _check(data, node, str(path))


def benchmark_from_dict(data: Mapping[str, Any], *, path: Path | None = None) -> Benchmark:
    """Build a validated Benchmark from already-parsed data (lines unknown: reported as 1)."""
    _check(data, None, str(path) if path else "<内存数据>")
    items = []
    for raw in data["items"]:
        in_force = raw.get("statute_in_force") or {}
        items.append(
            BenchmarkItem(
                id=raw["id"],
                number=int(raw["number"]),
                violation=raw["violation"],
                basis=tuple(raw["basis"]),
                statutory=_parse_range(raw["statutory"]),
                tiers=tuple(
                    Tier(
                        name=t["name"],
                        penalty=_parse_range(t["penalty"]),
                        when=_parse_conditions(t.get("when")),
                        standard=t.get("standard", ""),
                    )
                    for t in raw["tiers"]
                ),
                effective_from=date.fromisoformat(raw["effective_from"]),
                effective_to=(
                    date.fromisoformat(raw["effective_to"]) if raw.get("effective_to") else None
                ),
                statute_from=(
                    date.fromisoformat(in_force["from"]) if in_force.get("from") else None
                ),
                statute_to=date.fromisoformat(in_force["to"]) if in_force.get("to") else None,
                source=raw["source"],
                title=raw.get("title", ""),
                base_label=raw.get("base_label", ""),
                applies_when=_parse_conditions(raw.get("applies_when")),
            )
        )
    return Benchmark(
        name=data["name"],
        sample=bool(data["sample"]),
        items=tuple(items),
        note=data.get("note", ""),
        version=data.get("version", ""),
        path=path,
        publication=data.get("publication", ""),
    )


@lru_cache(maxsize=8)
def _load(path: Path) -> Benchmark:
    data, node = _read(path)
    _check(data, node, str(path))
    return benchmark_from_dict(data, path=path)


def load_benchmark(path: Path | None = None) -> Benchmark:
    """The benchmark at `path` (default: the bundled sample), validated and cached per file."""
    return _load((path or DEFAULT_BENCHMARK).resolve())
