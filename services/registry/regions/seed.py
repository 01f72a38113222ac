"""The official regions: the city, its 38 county-level units, 万盛经开区 as a reporting unit, 1,028 townships.

Codes are the National Bureau of Statistics' division codes as of 2019-10-31 (data/README in the handbook).
"""

import csv
from pathlib import Path
from typing import Any

from shared.regions import CITY_CODE, WANSHENG_CODE, WANSHENG_NAME, WANSHENG_TOWNSHIPS

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA_DIR / name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def official_regions() -> list[dict[str, Any]]:
    regions: list[dict[str, Any]] = [
        {"code": CITY_CODE, "name": "重庆市", "level": "city", "parent_code": None, "county_code": None},
        {
            "code": WANSHENG_CODE,
            "name": WANSHENG_NAME,
            "level": "reporting_unit",
            "parent_code": CITY_CODE,
            "county_code": "500110",
        },
    ]
    for row in _rows("chongqing_counties_2019.csv"):
        regions.append(
            {
                "code": row["code"],
                "name": row["name"],
                "level": "county",
                "parent_code": CITY_CODE,
                "county_code": row["code"],
            }
        )
    for row in _rows("chongqing_townships_2019.csv"):
        parent = WANSHENG_CODE if row["code"] in WANSHENG_TOWNSHIPS else row["county_code"]
        regions.append(
            {
                "code": row["code"],
                "name": row["name"],
                "level": "township",
                "parent_code": parent,
                "county_code": row["county_code"],
            }
        )
    return regions
