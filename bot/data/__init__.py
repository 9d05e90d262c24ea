"""Reference data shipped with the bot (region codes sample)."""

from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent
REGIONS_SAMPLE_CSV = DATA_DIR / "regions_sample.csv"
