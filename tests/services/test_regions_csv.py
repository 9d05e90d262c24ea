"""Regions CSV parsing: the bundled sample and every error code with its line."""

from __future__ import annotations

import pytest

from bot.core.regions_csv import (
    RegionRow,
    RowError,
    decode_regions_csv,
    parse_regions_csv,
    region_level_for_code,
)
from bot.data import REGIONS_SAMPLE_CSV

HEADER = "code,name,name_en,level,parent_code\n"


def codes_of(errors: list[RowError]) -> list[tuple[int, str | None, str]]:
    """Return (line, column, code) triples for compact assertions."""
    return [(error.line, error.column, error.code) for error in errors]


def test_sample_parses_cleanly_with_expected_counts() -> None:
    result = parse_regions_csv(REGIONS_SAMPLE_CSV.read_text(encoding="utf-8"))
    assert result.errors == []
    assert result.ok
    levels = [row.level for row in result.rows]
    assert levels.count("province") == 1
    assert levels.count("city") == 6
    assert levels.count("county") == 53
    xihu = next(row for row in result.rows if row.code == "330106")
    assert xihu == RegionRow("330106", "西湖区", "Xihu District", "county", "330100")
    province = result.rows[0]
    assert (province.code, province.name, province.parent_code) == ("330000", "浙江省", None)


def test_sample_rows_nest_under_their_parents() -> None:
    rows = parse_regions_csv(REGIONS_SAMPLE_CSV.read_text(encoding="utf-8")).rows
    by_code = {row.code: row for row in rows}
    for row in rows:
        if row.level == "county":
            assert by_code[row.parent_code or ""].level == "city"
            assert row.code[:4] == (row.parent_code or "")[:4]


@pytest.mark.parametrize(
    ("code", "level"),
    [("330000", "province"), ("330100", "city"), ("330106", "county"), ("429004", "county")],
)
def test_region_level_for_code(code: str, level: str) -> None:
    assert region_level_for_code(code) == level


def test_parents_may_come_later_in_the_file() -> None:
    text = HEADER + "330106,西湖区,Xihu District,county,330100\n330100,杭州市,,city,330000\n"
    text += "330000,浙江省,,province,\n"
    result = parse_regions_csv(text)
    assert result.errors == []
    assert [row.code for row in result.rows] == ["330106", "330100", "330000"]


def test_parents_may_already_be_known() -> None:
    result = parse_regions_csv(HEADER + "330108,滨江区,,county,330100\n", known={"330100": "city"})
    assert result.errors == []
    assert result.rows[0].parent_code == "330100"


def test_known_parent_of_wrong_level_is_reported() -> None:
    result = parse_regions_csv(
        HEADER + "330108,滨江区,,county,330000\n", known={"330000": "province"}
    )
    assert codes_of(result.errors) == [(2, "parent_code", "parent_level_mismatch")]
    assert result.errors[0].params == {
        "parent_code": "330000",
        "expected": "city",
        "actual": "province",
    }
    assert result.rows == []


def test_every_row_error_code_with_its_line() -> None:
    text = (
        HEADER  # line 1
        + "330000,浙江省,Zhejiang,province,\n"  # 2 ok
        + "330100,杭州市,Hangzhou,city,330000\n"  # 3 ok
        + "33010X,坏代码,,county,330100\n"  # 4 bad_code
        + "330104,江干区,,district,330100\n"  # 5 bad_level
        + "330199,,,county,330100\n"  # 6 empty_name
        + "330102,上城区,,county,330100\n"  # 7 ok
        + "330102,上城区,,county,330100\n"  # 8 duplicate_code
        + "330203,海曙区,,county,330200\n"  # 9 missing_parent
        + "320102,玄武区,,county,330100\n"  # 10 code_prefix_mismatch
        + "330106,西湖区,,county,330000\n"  # 11 parent_level_mismatch
        + "330108,滨江区,,city,330100\n"  # 12 level_code_mismatch
        + "330109,萧山区,,county,\n"  # 13 missing_parent (empty)
        + "330110,余杭区,,county,3301\n"  # 14 bad_code (parent)
        + "330500,湖州市,,city,330100\n"  # 15 parent_level_mismatch
        + "420100,武汉市,,city,330000\n"  # 16 code_prefix_mismatch
        + "320000,江苏省,,province,330000\n"  # 17 unexpected_parent
    )
    result = parse_regions_csv(text)
    assert codes_of(result.errors) == [
        (4, "code", "bad_code"),
        (5, "level", "bad_level"),
        (6, "name", "empty_name"),
        (8, "code", "duplicate_code"),
        (9, "parent_code", "missing_parent"),
        (10, "parent_code", "code_prefix_mismatch"),
        (11, "parent_code", "parent_level_mismatch"),
        (12, "level", "level_code_mismatch"),
        (13, "parent_code", "missing_parent"),
        (14, "parent_code", "bad_code"),
        (15, "parent_code", "parent_level_mismatch"),
        (16, "parent_code", "code_prefix_mismatch"),
        (17, "parent_code", "unexpected_parent"),
    ]
    assert [row.code for row in result.rows] == ["330000", "330100", "330102"]
    by_line = {error.line: error for error in result.errors}
    assert by_line[8].params == {"value": "330102", "first_line": 7}
    assert by_line[9].params == {"parent_code": "330200"}
    assert by_line[10].params == {"parent_code": "330100", "prefix": "3301"}


def test_children_of_a_rejected_parent_are_rejected_too() -> None:
    text = HEADER + "330100,杭州市,,city,990000\n330102,上城区,,county,330100\n"
    result = parse_regions_csv(text)
    assert codes_of(result.errors) == [
        (2, "parent_code", "missing_parent"),
        (3, "parent_code", "missing_parent"),
    ]
    assert result.rows == []


def test_province_administered_county_pattern_is_allowed() -> None:
    text = (
        HEADER
        + "420000,湖北省,Hubei Province,province,\n"
        + "429000,省直辖县级行政区划,,city,420000\n"
        + "429004,仙桃市,Xiantao City,county,429000\n"
        + "429005,潜江市,Qianjiang City,county,420000\n"
        + "420102,江岸区,,county,420000\n"
    )
    result = parse_regions_csv(text)
    assert codes_of(result.errors) == [(6, "parent_code", "parent_level_mismatch")]
    assert [row.code for row in result.rows] == ["420000", "429000", "429004", "429005"]


def test_missing_columns_are_reported_on_the_header_line() -> None:
    result = parse_regions_csv("\n\ncode,name,name_en\n330000,浙江省,Zhejiang\n")
    assert codes_of(result.errors) == [
        (3, "level", "missing_column"),
        (3, "parent_code", "missing_column"),
    ]
    assert result.rows == []


def test_name_en_column_is_optional_and_columns_may_be_reordered() -> None:
    result = parse_regions_csv("level,parent_code,name,code\nprovince,,浙江省,330000\n")
    assert result.errors == []
    assert result.rows == [RegionRow("330000", "浙江省", "", "province", None)]


def test_bom_blank_lines_and_crlf_are_tolerated() -> None:
    text = "\ufeff" + HEADER.replace("\n", "\r\n") + "\r\n330000,浙江省,,province,\r\n\r\n"
    text += "330100,杭州市,,city,330000\r\n"
    result = parse_regions_csv(text)
    assert result.errors == []
    assert [row.code for row in result.rows] == ["330000", "330100"]


def test_blank_lines_do_not_shift_line_numbers() -> None:
    result = parse_regions_csv(HEADER + "\n\n330000,,,province,\n")
    assert codes_of(result.errors) == [(4, "name", "empty_name")]


def test_wrong_delimiter_is_one_clear_error() -> None:
    result = parse_regions_csv("code;name;name_en;level;parent_code\n330000;浙江省;;province;\n")
    assert codes_of(result.errors) == [(1, None, "bad_delimiter")]
    assert result.errors[0].params == {"delimiter": ";"}


def test_empty_file() -> None:
    assert codes_of(parse_regions_csv("  \n\n").errors) == [(1, None, "empty_file")]


def test_gbk_mojibake_is_reported_not_raised() -> None:
    gbk = (HEADER + "330000,浙江省,Zhejiang,province,\n").encode("gbk")
    as_latin1 = parse_regions_csv(gbk.decode("latin-1"))
    as_utf8 = parse_regions_csv(gbk.decode("utf-8", errors="replace"))
    assert codes_of(as_latin1.errors) == [(2, "name", "bad_encoding")]
    assert codes_of(as_utf8.errors) == [(2, "name", "bad_encoding")]


def test_decode_accepts_utf8_bom_and_gbk() -> None:
    text = HEADER + "330000,浙江省,,province,\n"
    for data in (text.encode("utf-8-sig"), text.encode("utf-8"), text.encode("gbk")):
        assert parse_regions_csv(decode_regions_csv(data)).rows[0].name == "浙江省"


def test_full_width_codes_are_folded_to_ascii() -> None:
    text = HEADER + "３３００００,浙江省,,province,\n330100,杭州市,,city,３３００００\n"
    result = parse_regions_csv(text)
    assert result.errors == []
    assert [(r.code, r.parent_code) for r in result.rows] == [
        ("330000", None),
        ("330100", "330000"),
    ]


def test_garbage_never_raises() -> None:
    for text in ('"unterminated\n', "\x00\x01\x02", ",,,,\n,,,,", "code\n" + '"a"b"\n' * 3):
        result = parse_regions_csv(text)
        assert result.rows == []
        assert result.errors
