"""Region normalisation of the case filter: a province matches its cities' cases, a city only its
own, on hand-written places, a small index and the real bulletins' authority names."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from assistant.knowledge import HashingEmbedder, KnowledgeBase
from assistant.knowledge.cases_corpus import parse_case_line, regions_in
from assistant.knowledge.regions import DIVISIONS_FILE, Divisions, divisions, region_matches
from tests.conftest import DEMO_CORPUS, SHARED_CORPORA, requires_shared


def test_division_table_is_complete() -> None:
    table = Divisions.load(DIVISIONS_FILE)
    rows = [r for rs in table.by_name.values() for r in rs]
    provinces = {r.name for r in rows if r.level == "province"}
    prefectures = [r for r in rows if r.level == "prefecture"]
    assert len(provinces) == 34 and len(prefectures) == 333
    assert all(r.province in provinces for r in rows)
    assert {r.prefecture for r in rows if r.level == "county"} - {""} <= {
        r.name for r in prefectures
    }
    assert DIVISIONS_FILE.read_text(encoding="utf-8").startswith("# China's administrative")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("浙江", "浙江省"),
        ("浙江省", "浙江省"),
        ("广西", "广西壮族自治区"),
        ("内蒙古", "内蒙古自治区"),
        ("新疆", "新疆维吾尔自治区"),
        ("上海", "上海市"),
        ("吉林", "吉林省"),  # the province, not 吉林市
        ("吉林市", "吉林市"),
        ("温州", "温州市"),
        ("海西", "海西蒙古族藏族自治州"),
    ],
)
def test_filter_values_name_divisions(value: str, expected: str) -> None:
    assert [d.name for d in divisions().lookup(value)] == [expected]


@pytest.mark.parametrize(
    ("place", "province", "name"),
    [
        ("温州市", "浙江省", "温州市"),
        ("重庆市荣昌区", "重庆市", "荣昌区"),
        ("苏州工业园区", "江苏省", "苏州市"),
        ("彬州市", "陕西省", "彬州市"),  # county-level city of 咸阳市
        ("二连浩特市", "内蒙古自治区", "二连浩特市"),
        ("长春市朝阳区", "吉林省", "朝阳区"),
        ("北京市朝阳区", "北京市", "朝阳区"),
    ],
)
def test_case_places_resolve(place: str, province: str, name: str) -> None:
    got = divisions().resolve(place)
    assert got is not None and (got.province, got.name) == (province, name)


def test_ambiguous_or_unknown_places_resolve_to_nothing() -> None:
    assert divisions().resolve("朝阳区") is None  # 北京 or 长春, and not 朝阳市
    assert divisions().resolve("某开发区") is None


def test_province_matches_its_cities_and_a_city_only_itself() -> None:
    assert region_matches("浙江省", ["温州市"]) and region_matches("浙江", ["温州市"])
    assert region_matches("温州", ["温州市"]) and region_matches("温州市", ["温州市鹿城区"])
    assert not region_matches("温州市", ["浙江省"])  # a province-wide case is not a 温州 case
    assert not region_matches("温州市", ["宁波市"])
    assert not region_matches("江苏", ["温州市"])
    assert region_matches("广西", ["来宾市"]) and region_matches("陕西", ["彬州市"])
    assert region_matches("咸阳", ["彬州市"]) and not region_matches("彬州市", ["咸阳市"])
    assert region_matches("吉林", ["吉林市"]) and not region_matches("吉林市", ["长春市"])
    assert region_matches("江苏省", ["苏州工业园区"])
    # a value naming no division keeps the plain substring match
    assert region_matches("苏州工业园区", ["苏州工业园区"])
    assert not region_matches("苏州工业园区", ["苏州市"])
    assert not region_matches("火星", ["温州市"])


def _bulletin(authority: str, n: int) -> dict[str, str]:
    return {
        "title": f"示例通报{n}：某公司私户收款偷税案",
        "url": f"http://example.invalid/bulletin/{n}",
        "publish_date": "2024-05-01",
        "content_text": f"{authority}稽查局依法查处某公司偷税案件。经查，该公司通过个人账户"
        "收取货款，少缴增值税10万元。",
    }


def test_search_filters_by_province_and_city(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(DEMO_CORPUS / "statutes", corpus / "statutes")
    (corpus / "cases").mkdir()
    authorities = [f"国家税务总局{p}税务局" for p in ("温州市", "宁波市", "江苏省")]
    (corpus / "cases" / "bulletins.jsonl").write_text(
        "".join(
            json.dumps(_bulletin(a, n), ensure_ascii=False) + "\n"
            for n, a in enumerate(authorities)
        ),
        encoding="utf-8",
    )
    kb = KnowledgeBase.build([corpus], tmp_path / "index", HashingEmbedder(dim=64))
    query = "通过个人账户收取货款少缴增值税"

    def regions(region: str) -> set[tuple[str, ...]]:
        return {h.region for h in kb.search_cases(query, k=10, region=region)}

    assert regions("浙江") == regions("浙江省") == {("温州市",), ("宁波市",)}
    assert regions("温州") == {("温州市",)}
    assert regions("江苏") == {("江苏省",)}
    assert regions("苏州市") == set()


@requires_shared
def test_real_bulletin_authorities_resolve_to_their_province() -> None:
    path = SHARED_CORPORA / "cases" / "chinatax_bulletins.jsonl"
    cases = [
        parse_case_line(json.loads(line), line_no=n, source=str(path))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if line.strip()
    ]
    places = {p for c in cases for p in c.region}
    assert len(places) > 50
    unresolved = sorted(p for p in places if divisions().resolve(p) is None)
    assert unresolved == [], unresolved
    wenzhou = [c for c in cases if "国家税务总局温州市税务局" in c.text]
    assert wenzhou, "the bulletins name 国家税务总局温州市税务局"
    assert all(c.matches_region("浙江省") and c.matches_region("浙江") for c in wenzhou)
    assert not any(c.matches_region("江苏省") for c in wenzhou if "江苏" not in "".join(c.region))
    # every case named after a city authority lies in that city's province
    for case in cases:
        for place in case.region:
            got = divisions().resolve(place)
            assert got is not None and case.matches_region(got.province)
    assert regions_in("国家税务总局温州市税务局第一稽查局") == ("温州市",)
