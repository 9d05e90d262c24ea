"""The pure matching rules of automatic findings: photos, duplicates, wording, bursts."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from bot.config import IntegritySettings
from bot.sandbox import photos
from bot.services import detection

RULES = IntegritySettings()
LIMIT = RULES.photo_hash_distance


def test_hamming_and_near_matches() -> None:
    assert detection.hamming("ff00", "ff01") == 1
    assert detection.hamming("0000", "ffff") == 16
    found = detection.near_matches("00ff", [("a", "00fe"), ("b", "ff00"), ("c", "00ff")], 2)
    assert found == [("c", 0), ("a", 1)]
    assert detection.near_matches("00ff", [("x", ""), ("y", "0ff")], 64) == []


@given(st.integers(0, 2**64 - 1), st.integers(0, 2**64 - 1))
def test_hamming_is_a_distance(a: int, b: int) -> None:
    ha, hb = f"{a:016x}", f"{b:016x}"
    assert detection.hamming(ha, hb) == detection.hamming(hb, ha) == bin(a ^ b).count("1")
    assert detection.hamming(ha, ha) == 0


def test_copies_are_caught_and_reshots_are_not() -> None:
    for seed in range(8):
        original = photos.jpeg(photos.photo(seed))
        h = detection.photo_hash(original)
        assert h is not None and len(h) == 16
        for copy in (
            photos.recompressed(original),
            photos.resized(original),
            photos.resized(original, 0.3, 50),
        ):
            assert detection.hamming(h, detection.photo_hash(copy) or "") <= LIMIT
        reshot = detection.photo_hash(photos.jpeg(photos.reshot(seed, 0)))
        other = detection.photo_hash(photos.jpeg(photos.photo(seed + 100)))
        assert detection.hamming(h, reshot or "") > LIMIT
        assert detection.hamming(h, other or "") > LIMIT


def test_unreadable_bytes_have_no_hash() -> None:
    assert detection.photo_hash(b"not a picture") is None


def test_titles_fold_width_case_spaces_and_punctuation() -> None:
    assert detection.normalise_title("防范 电信诈骗！") == detection.normalise_title(
        "防范电信诈骗"
    )
    assert detection.normalise_title("ＡＩ 讲座") == detection.normalise_title("ai讲座")
    assert detection.normalise_title("垃圾分类") != detection.normalise_title("垃圾分类二")


def test_duplicates_point_to_the_first() -> None:
    day = dt.date(2026, 11, 20)
    key = detection.ActivityKey.of(1, day, "lecture", "防范电信诈骗")
    same = detection.ActivityKey.of(1, day, "lecture", "防范 电信诈骗")
    other_type = detection.ActivityKey.of(1, day, "exhibition", "防范电信诈骗")
    assert detection.duplicates([(7, same), (3, key), (9, key), (5, other_type)]) == {7: 3, 9: 3}
    use = detection.UseKey.of(1, 2, day, "played", None, 30)
    assert detection.duplicates([(1, use), (2, use)]) == {2: 1}
    # Two showings with different audiences are two uses.
    assert (
        detection.duplicates([(1, use), (2, detection.UseKey.of(1, 2, day, "played", None, 31))])
        == {}
    )


def test_commercial_wording_and_warnings() -> None:
    words = lambda *texts: detection.commercial_words(  # noqa: E731
        texts, RULES.commercial_words, RULES.health_claims, RULES.commercial_exempt_before
    )
    assert words("老年人保健品体验讲座", None) == ("保健品",)
    assert words("养生讲座", "理财产品推介会") == ("理财",)
    assert words("神奇磁疗床包治百病") == ("包治",)
    assert words("防范保健品诈骗讲座") == ()
    assert words("警惕会销陷阱", "社区活动室") == ()
    assert words("垃圾分类知识展") == ()


def test_bursts_need_more_than_the_threshold_within_the_window() -> None:
    t0 = dt.datetime(2026, 11, 1, 8, tzinfo=dt.UTC)
    hours = [0, 1, 2, 3, 4, 5, 30, 31]
    subs = [(i, t0 + dt.timedelta(hours=h)) for i, h in enumerate(hours)]
    found = detection.bursts(subs, dt.timedelta(hours=24), 5)
    assert found == [(t0, [0, 1, 2, 3, 4, 5])]
    assert detection.bursts(subs[:5], dt.timedelta(hours=24), 5) == []


def test_a_warning_a_few_characters_before_still_counts() -> None:
    found = detection.commercial_words(
        ["谨防降血压神药骗局"],
        RULES.commercial_words,
        RULES.health_claims,
        RULES.commercial_exempt_before,
    )
    assert found == ()
