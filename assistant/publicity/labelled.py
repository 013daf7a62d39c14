"""A labelled redaction set: real enforcement text with planted personal data.

Why: real bulletins and decisions are already anonymised (王某某), so recall can only be
measured on personal data planted into them. Each sample is a real paragraph with one sentence
inserted at a sentence boundary; the sentence comes from templates written the way decisions
and bulletins mention persons, and the planted values are well formed: 公民身份号码 with a
real birth date and the MOD 11-2 check character, mobile and fixed numbers, UnionPay card
numbers passing Luhn, home addresses down to the room, Chinese names. Everything is drawn
from one seeded generator, so the set is the same on every run.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from assistant.nlp.uscc import resident_id_check_char
from assistant.publicity.redaction import luhn_ok

# county-level codes (GB/T 2260) of the seed's region and a few others
REGIONS = (
    "150102", "150203", "150204", "150205", "150206", "150207", "150221", "150222",
    "150121", "150302", "150402", "150502", "150602", "152501", "110105", "110108",
    "120101", "130102", "140105", "310104", "440305", "510107", "610113", "330106",
)  # fmt: skip
PLACES = (
    ("内蒙古自治区包头市", ("昆都仑区", "青山区", "东河区", "九原区", "石拐区", "土默特右旗")),
    ("内蒙古自治区呼和浩特市", ("新城区", "回民区", "赛罕区", "玉泉区")),
    ("北京市", ("朝阳区", "海淀区", "丰台区")),
    ("河北省石家庄市", ("长安区", "桥西区", "裕华区")),
    ("山西省太原市", ("小店区", "迎泽区")),
    ("天津市", ("和平区", "河西区")),
)
STREETS = ("阿尔丁大街", "钢铁大街", "民族东路", "建设路", "友谊大街", "团结大街", "中山路",
           "新华大街", "幸福南路", "文化路", "林荫路", "富强路", "光明小区", "青年路")  # fmt: skip
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶"
    "程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦"
)
GIVEN = "伟芳娜秀敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华建国志红海云飞鹏宇晨欣浩然子轩梓涵雅琳佳琪思远博文俊峰"  # noqa: E501
BANKS = ("中国工商银行", "中国农业银行", "中国建设银行", "中国银行", "交通银行", "包商银行")
# card BINs of UnionPay debit cards
BINS = ("622202", "622848", "621700", "621661", "622260", "623052", "621226", "622588")

TEMPLATES = (
    "其法定代表人{name}（公民身份号码：{id}，联系电话：{mobile}）对上述事实无异议。",
    "经查，{name}通过其个人银行卡{card}收取货款，未按规定申报纳税。",
    "{name}，{sex}，{birth}出生，住{address}，系该公司实际经营人。",
    "该公司财务人员{name}的手机号码为{mobile}，其居住在{address}。",
    "税务机关依法向{name}（身份证号{id}）送达了税务事项通知书。",
    "相关款项转入股东{name}在{bank}开立的个人账户（账号：{card}）。",
    "举报人提供的联系电话为{fixed}，现住{address}。",
    "当事人{name}，公民身份号码{id}，银行卡号{card}，联系方式{mobile}。",
    "涉案资金经由{name}名下银行卡{card}流转，其身份证号码为{id}。",
    "检查人员于现场询问了会计{name}（电话{fixed}），并调取了账簿。",
    "该主播{name}的户籍地为{address}，身份证号码{id}，手机{mobile}。",
    "据查，个人{name}利用其控制的{card}账户隐匿收入，联系电话{mobile}。",
)
# Written after the masking rules were tuned on TEMPLATES and never used to tune them: their
# recall is reported apart, as the estimate for phrasings the rules were not fitted to.
HELD_OUT = (
    "{name}系该企业的实际控制人，其本人手机{mobile}，家庭住址为{address}。",
    "受票方负责人{name}向检查人员提供了身份证复印件（{id}）及开户行{bank}账号{card}。",
    "联系人：{name}，电话：{mobile}。",
    "{name}（{sex}，身份证号码：{id}）在{address}经营一家个体商店，使用银行卡{card}收款。",
)


@dataclass
class Planted:
    kind: str  # id_number | phone | bank_account | address | person_name
    value: str  # what must not reach the public (for an address: the part below the county)


@dataclass
class Sample:
    source: str  # bulletin:<article_id> | decision:<file>
    text: str
    held_out: bool
    planted: list[Planted] = field(default_factory=list)


def resident_id(rng: random.Random) -> str:
    born = date(1950, 1, 1) + timedelta(days=rng.randrange(0, 365 * 55))
    body = f"{rng.choice(REGIONS)}{born:%Y%m%d}{rng.randrange(0, 1000):03d}"
    return body + resident_id_check_char(body)


def mobile(rng: random.Random) -> str:
    number = f"1{rng.choice('3456789')}{rng.randrange(0, 10**9):09d}"
    style = rng.randrange(4)
    if style == 1:
        return f"{number[:3]}-{number[3:7]}-{number[7:]}"
    if style == 2:
        return f"{number[:3]} {number[3:7]} {number[7:]}"
    if style == 3:
        return f"+86 {number}"
    return number


def fixed_line(rng: random.Random) -> str:
    area = rng.choice(("0472", "0471", "010", "0311", "0351", "022"))
    length = 8 if len(area) == 3 else 7
    number = f"{rng.randrange(2, 10)}{rng.randrange(0, 10 ** (length - 1)):0{length - 1}d}"
    return rng.choice((f"{area}-{number}", f"（{area}）{number}", f"{area}{number}"))


def luhn_digit(body: str) -> str:
    """The check digit that makes `body` + digit pass Luhn."""
    return next(d for d in "0123456789" if luhn_ok(body + d))


def bank_card(rng: random.Random) -> str:
    length = rng.choice((16, 19))
    body = rng.choice(BINS) + "".join(str(rng.randrange(10)) for _ in range(length - 7))
    card = body + luhn_digit(body)
    if rng.random() < 0.3:
        return " ".join(card[i : i + 4] for i in range(0, len(card), 4))
    return card


def address(rng: random.Random) -> tuple[str, str]:
    """(full address, the part below the county level)."""
    city, districts = rng.choice(PLACES)
    detail = f"{rng.choice(STREETS)}{rng.randrange(1, 300)}号"
    if rng.random() < 0.7:
        room = f"{rng.randrange(1, 25)}0{rng.randrange(1, 4)}"
        detail += f"{rng.randrange(1, 30)}栋{rng.randrange(1, 6)}单元{room}室"
    return city + rng.choice(districts) + detail, detail


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))


def _paragraphs(corpora: Path) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    with (corpora / "cases" / "chinatax_bulletins.jsonl").open(encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            for para in row["content_text"].split("\n"):
                if 60 <= len(para) <= 600:
                    out.append((f"bulletin:{row['article_id']}", para))
    with (corpora / "decisions" / "fulltext.jsonl").open(encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            # PDF text breaks lines mid-sentence: join them, then cut into runs of whole
            # sentences of at most 400 characters
            text = re.sub(r"\n(?![一二三四五六七八九十]、)", "", row["text"])
            for para in text.split("\n"):
                chunk = ""
                for sentence in re.findall(r"[^。]+。?", para):
                    if chunk and len(chunk) + len(sentence) > 400:
                        if len(chunk) >= 60:
                            out.append((f"decision:{row['file']}", chunk))
                        chunk = ""
                    chunk += sentence
                if 60 <= len(chunk) <= 600:
                    out.append((f"decision:{row['file']}", chunk))
    return out


def build_set(corpora: Path, *, samples: int = 600, seed: int = 20261204) -> list[Sample]:
    """`samples` real paragraphs (bulletins and decisions), each with one planted sentence."""
    rng = random.Random(seed)
    paragraphs = _paragraphs(corpora)
    decisions = [p for p in paragraphs if p[0].startswith("decision:")]
    bulletins = [p for p in paragraphs if p[0].startswith("bulletin:")]
    chosen = rng.sample(decisions, min(len(decisions), samples // 5))
    chosen += rng.sample(bulletins, samples - len(chosen))
    out: list[Sample] = []
    for source, para in chosen:
        held_out = rng.random() < 0.25
        template = rng.choice(HELD_OUT if held_out else TEMPLATES)
        name, card, pid = person_name(rng), bank_card(rng), resident_id(rng)
        phone, fixed = mobile(rng), fixed_line(rng)
        full_address, detail = address(rng)
        born = date(int(pid[6:10]), int(pid[10:12]), int(pid[12:14]))
        values = {
            "name": name,
            "id": pid,
            "mobile": phone,
            "fixed": fixed,
            "card": card,
            "address": full_address,
            "bank": rng.choice(BANKS),
            "sex": "男" if int(pid[16]) % 2 else "女",
            "birth": f"{born.year}年{born.month}月{born.day}日",
        }
        sentence = template.format(**values)
        planted = [
            Planted(kind, value)
            for key, kind, value in (
                ("{name}", "person_name", name),
                ("{id}", "id_number", pid),
                ("{mobile}", "phone", phone),
                ("{fixed}", "phone", fixed),
                ("{card}", "bank_account", card),
                ("{address}", "address", detail),
            )
            if key in template
        ]
        cuts = [m.end() for m in re.finditer("[。；]", para)] or [len(para)]
        at = rng.choice(cuts)
        out.append(Sample(source, para[:at] + sentence + para[at:], held_out, planted))
    return out
