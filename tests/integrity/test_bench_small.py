"""The integrity benchmark's logic on a tiny world: every planted kind caught, few false flags."""

from __future__ import annotations

from pathlib import Path

from benchmarks.integrity_bench import KINDS, run


async def test_tiny_world_meets_the_targets(tmp_path: Path) -> None:
    result = await run(stations=100, informants=500, planted=6, seed=16,
                       db_path=tmp_path / "bench.db")  # fmt: skip
    kinds = result["kinds"]
    assert set(kinds) == set(KINDS)
    for kind, figures in kinds.items():
        assert figures["planted"] > 0 and figures["honest"] > 0, kind
        assert figures["recall"] == 1.0, (kind, figures)
    assert result["false_flag_rate"] < 0.05
    # The honest look-alikes of the issue are among the honest cases and are not flagged.
    assert kinds["participants_high"]["false_flags"] == 0  # 500-person school assembly
    assert kinds["duplicate_activity"]["false_flags"] == 0  # two lectures on one day
    assert kinds["photo_reuse"]["false_flags"] == 0  # re-shots of the same poster board
