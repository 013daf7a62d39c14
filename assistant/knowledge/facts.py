"""What kind of facts a statute query holds, and the structured facts that steer the push.

Criminal facts (a court's judgment: 被告人, 公诉机关 …) are decided under the 刑法 and the 2024
两高解释 only; tax-administration articles are not what a judge applies. Administrative facts
carry structured inputs that article text cannot show: when the acts began and when they were
found (limitation), which taxes are assessed (charging articles, late-payment surcharge), the
party's role, whether the tax was assessed by 核定, and which document is being drafted (处理 or
处罚决定: the document registry's `statute_document` of the type drafted). The officer states them
(API/CLI `facts`); what is not stated is read from the text (`read_facts`).

The rules that turn a fact into articles live in `corpora/retrieval/fact_rules.yaml`, each with
the statute text it rests on; this module only evaluates them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from assistant.config import BUNDLED_CORPUS
from assistant.errors import InvalidInput

CRIMINAL = "criminal"
ADMINISTRATIVE = "administrative"
FACTS_KINDS: tuple[str, ...] = (ADMINISTRATIVE, CRIMINAL)
#: Criminal facts reach these laws only: the 刑法 and the 2024 两高解释 on tax crimes
#: (its 第二十二条 repeals the 2002 interpretations, so those are not pushed).
CRIMINAL_LAWS: tuple[str, ...] = (
    "刑法",
    "最高人民法院、最高人民检察院关于办理危害税收征管刑事案件适用法律若干问题的解释",
)
#: Words only a criminal court's record uses of the accused and the prosecution.
_CRIMINAL_CUES = re.compile(r"被告人|公诉机关|检察院指控|犯罪嫌疑人|本院认为|审理查明")
DOCUMENTS: tuple[str, ...] = ("处理决定", "处罚决定")
ROLES: tuple[str, ...] = ("taxpayer", "withholding_agent", "invoice_issuer", "invoice_receiver")
FACT_RULES_FILE = BUNDLED_CORPUS / "retrieval" / "fact_rules.yaml"

_DATE = re.compile(
    r"(19\d\d|20\d\d)[\s\u3000]*年[\s\u3000]*(\d{1,2})[\s\u3000]*月"
    r"(?:[\s\u3000]*(\d{1,2})[\s\u3000]*日)?"
)
#: "我局于2022年5月20日起对你公司…进行检查": the date the inspection began (the acts were found).
_FOUND = re.compile(
    r"(?:我局|本局|我(?:局|所)[（(]所[)）])[\s\u3000]*(?:于|自)[\s\u3000]*"
    r"((?:19|20)\d\d[\s\u3000]*年[\s\u3000]*\d{1,2}[\s\u3000]*月[\s\u3000]*\d{1,2}[\s\u3000]*日)"
)
#: "核定应纳税所得额", "核定其应纳税额": the tax was assessed by 核定 (征管法第三十五条), not from
#: the books.
_DEEMED = re.compile(r"核定[^。；，,]{0,6}(?:应纳税额|应纳税所得额|收入|计税依据|销售额)")
_ROLE_CUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("withholding_agent", re.compile(r"扣缴义务人|应扣未扣|代扣代缴")),
    (
        "invoice_issuer",
        re.compile(r"为他人[^。；]{0,12}开具|向[^。；]{0,30}开具[^。；]{0,20}发票"),
    ),
    (
        "invoice_receiver",
        re.compile(r"取得[^。；]{0,40}(?:虚开|不符)[^。；]{0,20}发票|让他人为自己"),
    ),
)


def facts_kind(text: str) -> str:
    """`criminal` for a criminal court's facts (被告人, 公诉机关 …), else administrative."""
    return CRIMINAL if _CRIMINAL_CUES.search(text) else ADMINISTRATIVE


def _dates(text: str) -> list[date]:
    found: list[date] = []
    for m in _DATE.finditer(text):
        try:
            found.append(date(int(m.group(1)), int(m.group(2)), int(m.group(3) or 1)))
        except ValueError:
            continue
    return found


@dataclass(frozen=True)
class CaseFacts:
    """The structured facts of one administrative case that steer statute recommendation."""

    act_date: date | None = None  # when the violation began
    found_date: date | None = None  # when it was found (inspection began)
    taxes: tuple[str, ...] = ()  # taxes assessed (增值税, 企业所得税 …)
    role: str | None = None  # ROLES
    document: str | None = None  # DOCUMENTS: the decision being drafted
    deemed: bool | None = None  # the tax was assessed by 核定 (deemed), not from the books

    @classmethod
    def from_dict(cls, raw: dict[str, Any] | None) -> CaseFacts:
        """API/CLI input -> facts; an unknown key or value is a 422 naming it."""
        if not raw:
            return cls()
        if not isinstance(raw, dict):
            raise InvalidInput("invalid_facts", "案件要素（facts）必须是对象", details={})
        allowed = {"act_date", "found_date", "taxes", "role", "document", "deemed"}
        unknown = sorted(set(raw) - allowed)
        if unknown:
            raise InvalidInput(
                "unknown_fact",
                f"不支持的案件要素：{'、'.join(unknown)}（可用：{'、'.join(sorted(allowed))}）",
                details={"unknown": unknown, "allowed": sorted(allowed)},
            )
        out: dict[str, Any] = {}
        for key in ("act_date", "found_date"):
            if raw.get(key):
                try:
                    out[key] = date.fromisoformat(str(raw[key]))
                except ValueError as exc:
                    raise InvalidInput(
                        "invalid_fact_date",
                        f"案件要素 {key} 不是有效日期（YYYY-MM-DD）：{raw[key]}",
                        details={"field": key, "value": str(raw[key])},
                    ) from exc
        taxes = raw.get("taxes") or []
        if isinstance(taxes, str) or not all(isinstance(t, str) and t for t in taxes):
            raise InvalidInput(
                "invalid_fact_taxes",
                "案件要素 taxes 必须是税种名称列表",
                details={"field": "taxes"},
            )
        out["taxes"] = tuple(dict.fromkeys(taxes))
        for key, allowed_values in (("role", ROLES), ("document", DOCUMENTS)):
            value = raw.get(key)
            if value is not None and value not in allowed_values:
                raise InvalidInput(
                    f"invalid_fact_{key}",
                    f"案件要素 {key} 的取值无效：{value}（可用：{'、'.join(allowed_values)}）",
                    details={"field": key, "value": value, "allowed": list(allowed_values)},
                )
            out[key] = value
        deemed = raw.get("deemed")
        if deemed is not None and not isinstance(deemed, bool):
            raise InvalidInput(
                "invalid_fact_deemed",
                "案件要素 deemed（是否核定应纳税额）必须是 true 或 false",
                details={"field": "deemed", "value": str(deemed)},
            )
        out["deemed"] = deemed
        return cls(**out)

    def merged(self, read: CaseFacts) -> CaseFacts:
        """These facts, with what they leave open filled from `read` (the text's reading)."""
        return replace(
            self,
            act_date=self.act_date or read.act_date,
            found_date=self.found_date or read.found_date,
            taxes=self.taxes or read.taxes,
            role=self.role or read.role,
            document=self.document or read.document,
            deemed=self.deemed if self.deemed is not None else read.deemed,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "act_date": self.act_date.isoformat() if self.act_date else None,
            "found_date": self.found_date.isoformat() if self.found_date else None,
            "taxes": list(self.taxes),
            "role": self.role,
            "document": self.document,
            "deemed": self.deemed,
        }


def read_facts(text: str, taxes: tuple[str, ...] = ()) -> CaseFacts:
    """The facts the text states: the earliest date (acts began), the inspection start (found;
    else the latest date), the role by its cue words; `taxes` from the caller's reading."""
    dates = _dates(text)
    found = None
    m = _FOUND.search(text)
    if m:
        found_dates = _dates(m.group(1))
        found = found_dates[0] if found_dates else None
    if found is None and len(dates) > 1:
        found = max(dates)
    role = next((name for name, cue in _ROLE_CUES if cue.search(text)), None)
    return CaseFacts(
        act_date=min(dates) if dates else None,
        found_date=found,
        taxes=taxes,
        role=role,
        deemed=True if _DEEMED.search(text) else None,
    )


@dataclass(frozen=True)
class FactRule:
    """Articles one fact brings in, with the statute text the rule rests on."""

    name: str
    when: dict[str, Any]
    articles: tuple[str, ...]
    reason: str
    source: str

    def applies(self, facts: CaseFacts) -> bool:
        """Every condition holds (an unknown fact never satisfies one)."""
        for key, want in self.when.items():
            if key == "years_unfound_over":
                if facts.act_date is None or facts.found_date is None:
                    return False
                if (facts.found_date - facts.act_date).days <= float(want) * 365.25:
                    return False
            elif key == "taxes_assessed":
                if bool(facts.taxes) != bool(want):
                    return False
            elif key == "tax":
                if str(want) not in facts.taxes:
                    return False
            elif key == "document_not":
                if facts.document == want:
                    return False
            elif key == "document_in":
                if facts.document not in [None if x is None else str(x) for x in want]:
                    return False
            elif key == "deemed":
                if bool(facts.deemed) != bool(want):
                    return False
            elif key == "role":
                if facts.role != want:
                    return False
            else:  # pragma: no cover - load_fact_rules refuses unknown conditions
                return False
        return True


_CONDITIONS = frozenset(
    {
        "years_unfound_over",
        "taxes_assessed",
        "tax",
        "deemed",
        "document_not",
        "document_in",
        "role",
    }
)


@lru_cache(maxsize=4)
def load_fact_rules(path: Path = FACT_RULES_FILE) -> tuple[FactRule, ...]:
    """The rules file; a rule with an unknown condition or without a source is refused."""
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    rules: list[FactRule] = []
    for entry in raw.get("rules", []):
        when = dict(entry.get("when") or {})
        if set(when) - _CONDITIONS or not entry.get("source") or not entry.get("articles"):
            raise ValueError(f"fact rule {entry.get('name')!r}: unknown condition or no source")
        rules.append(
            FactRule(
                name=str(entry["name"]),
                when=when,
                articles=tuple(str(a) for a in entry["articles"]),
                reason=str(entry.get("reason") or entry["name"]),
                source=str(entry["source"]),
            )
        )
    return tuple(rules)


def fact_articles(facts: CaseFacts) -> list[tuple[str, FactRule]]:
    """(article id, the rule that brings it) for every rule the facts satisfy, in file order."""
    return [(a, rule) for rule in load_fact_rules() if rule.applies(facts) for a in rule.articles]
