"""The catalogue of case factors (情节) the engine understands, each with its legal source."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FactorSpec:
    code: str
    description: str
    kind: str  # mitigation | exemption | legal_review | conduct | aggravation | context
    source: str


_SPECS = (
    # 行政处罚法第三十二条: 应当从轻或者减轻行政处罚
    FactorSpec(
        "voluntarily_eliminated_harm",
        "主动消除或者减轻违法行为危害后果",
        "mitigation",
        "行政处罚法第三十二条第（一）项",
    ),
    FactorSpec(
        "coerced", "受他人胁迫或者诱骗实施违法行为", "mitigation", "行政处罚法第三十二条第（二）项"
    ),
    FactorSpec(
        "voluntarily_confessed",
        "主动供述行政机关尚未掌握的违法行为",
        "mitigation",
        "行政处罚法第三十二条第（三）项",
    ),
    FactorSpec(
        "cooperated_meritoriously",
        "配合行政机关查处违法行为有立功表现",
        "mitigation",
        "行政处罚法第三十二条第（四）项",
    ),
    FactorSpec(
        "other_statutory_mitigation",
        "法律、法规、规章规定其他应当从轻或者减轻行政处罚的情形",
        "mitigation",
        "行政处罚法第三十二条第（五）项",
    ),
    # 行政处罚法第三十三条: 不予行政处罚
    FactorSpec(
        "no_subjective_fault",
        "当事人有证据足以证明没有主观过错",
        "exemption",
        "行政处罚法第三十三条第二款",
    ),
    FactorSpec(
        "minor_violation",
        "违法行为轻微（与及时改正、没有造成危害后果共同适用）",
        "exemption",
        "行政处罚法第三十三条第一款",
    ),
    # 行政处罚法第五十八条: 法制审核
    FactorSpec(
        "major_public_interest",
        "涉及重大公共利益",
        "legal_review",
        "行政处罚法第五十八条第一款第（一）项",
    ),
    FactorSpec(
        "hearing_held",
        "直接关系当事人或者第三人重大权益，经过听证程序",
        "legal_review",
        "行政处罚法第五十八条第一款第（二）项",
    ),
    FactorSpec(
        "complex_case",
        "案件情况疑难复杂、涉及多个法律关系",
        "legal_review",
        "行政处罚法第五十八条第一款第（三）项",
    ),
    FactorSpec(
        "review_required_by_law",
        "法律、法规规定应当进行法制审核的其他情形",
        "legal_review",
        "行政处罚法第五十八条第一款第（四）项",
    ),
    # Conduct within invoice_misuse that the 首违不罚 lists name.
    FactorSpec(
        "invoice_data_not_reported",
        "使用税控装置开具发票，未按期报送开具发票的数据",
        "conduct",
        "国家税务总局公告2021年第6号第4项",
    ),
    FactorSpec(
        "other_voucher_instead_of_invoice",
        "未按照规定取得发票，以其他凭证代替发票使用",
        "conduct",
        "国家税务总局公告2021年第6号第5项",
    ),
    FactorSpec(
        "invoice_not_cancelled", "未按照规定缴销发票", "conduct", "国家税务总局公告2021年第6号第6项"
    ),
    FactorSpec(
        "non_tax_control_software_not_filed",
        "使用非税控电子器具开具发票，未将软件程序说明资料报主管税务机关备案",
        "conduct",
        "国家税务总局公告2021年第33号第1项",
    ),
    FactorSpec(
        "invoice_seal_missing",
        "未按照规定加盖发票专用章",
        "conduct",
        "国家税务总局公告2021年第33号第3项",
    ),
    FactorSpec(
        "vat_special_invoice",
        "虚开的是增值税专用发票或者用于骗取出口退税、抵扣税款的其他发票",
        "context",
        "刑法第二百零五条",
    ),
    FactorSpec(
        "withholding_agent",
        "当事人为扣缴义务人（未按期报送代扣代缴、代收代缴税款报告表和有关资料）",
        "conduct",
        "税收征收管理法第六十二条；国家税务总局公告2021年第6号第8项",
    ),
    FactorSpec("cooperated", "能够配合税务机关检查", "context", "裁量基准适用条件"),
    FactorSpec("not_cooperated", "未配合税务机关检查", "context", "裁量基准适用条件"),
)

FACTORS: dict[str, FactorSpec] = {spec.code: spec for spec in _SPECS}
MITIGATION = frozenset(code for code, spec in FACTORS.items() if spec.kind == "mitigation")
