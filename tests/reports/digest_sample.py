"""A digest of the demo's county (西湖区, 2026-W48) built by hand, for rendering tests."""

from __future__ import annotations

import datetime as dt

from bot.services.digest import ChildLine, DigestData, Figures, FlagLine, StationLine
from storage.models import ShareEvent

STATIONS = [
    ("西湖区灵隐街道科普e站", 2666.0, 37, 1),
    ("西湖区翠苑社区科普e站", 1765.5, 12, 0),
    ("西湖区转塘中学科普e站", 1014.0, 15, 1),
    ("文三路小学科普e站", 281.0, 4, 2),
    ("西湖区双浦镇农技协科普e站", 0.0, 0, 0),
]
TREND_VOLUME = [3420.0, 5100, 6880, 4730, 4330, 5800, 5680, 7150, 6760, 9200, 3353, 5726.5]
TREND_SHARES = [38.0, 65, 71, 48, 45, 70, 57, 70, 77, 110, 34, 68]
TREND_ACTIVITIES = [2.0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 4]


def _values(volume: float, shares: int, activities: int) -> dict[str, float]:
    values: dict[str, float] = {f"shares_{ch}": 0 for ch in ShareEvent.CHANNELS}
    values["shares_wechat_group"] = shares
    values.update(
        volume=volume,
        shares_total=shares,
        reach_telegram=100,
        reach_reported=200,
        visits=3,
        activities=activities,
        participants=60 * activities,
        content_uses=0,
        content_use_audience=0,
        sharing_informants=3,
        active_informants=3,
        informants=3,
    )
    return values


def digest_data(*, top: bool = True, children: bool = False) -> DigestData:
    """Return the digest of 西湖区 (or of 杭州市 with sub-regions when ``children``)."""
    stations = [
        StationLine(
            station_id=i,
            name=name,
            county="西湖区",
            values=_values(volume if top else 0.0, shares if top else 0, acts),
            silent=volume == 0 or not top,
        )
        for i, (name, volume, shares, acts) in enumerate(STATIONS, 1)
    ]
    this = Figures(values=_values(5726.5, 68, 4), stations_counted=5, stations_silent=1)
    last = Figures(values=_values(3353.0, 34, 3), stations_counted=5, stations_silent=0)
    weeks = [f"2026-W{n}" for n in range(37, 49)]
    return DigestData(
        region_code="330100" if children else "330106",
        region_name="杭州市" if children else "西湖区",
        level="city" if children else "county",
        week="2026-W48",
        start=dt.date(2026, 11, 23),
        end=dt.date(2026, 11, 29),
        timezone="Asia/Shanghai",
        this=this,
        last=last,
        trend_weeks=weeks,
        trend={
            "volume": TREND_VOLUME,
            "shares_total": TREND_SHARES,
            "activities": TREND_ACTIVITIES,
        },
        stations=stations,
        pending={"submitted": 1},
        flags=[FlagLine(kind="photo_reuse", station="文三路小学科普e站", detail={})],
        children=[
            ChildLine(code="330108", name="滨江区", figures=Figures(values={"volume": 0.0})),
            ChildLine(code="330106", name="西湖区", figures=this),
        ]
        if children
        else [],
    )
