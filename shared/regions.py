"""Region facts every service shares: Chongqing's region codes and how they nest."""

CITY_CODE = "500000"
# 万盛经开区 has no GB/T 2260 code of its own: it is a reporting unit over ten townships of 500110 綦江区.
WANSHENG_CODE = "wansheng"
WANSHENG_NAME = "万盛经开区"
WANSHENG_TOWNSHIPS = frozenset({"500110004", "500110005", *(f"500110{n}" for n in range(100, 108))})
WANSHENG_COUNTY = "500110"  # the county code its townships carry, and its rows are filed under


def scope_codes(code: str) -> list[str]:
    """The codes a region covers for filtering: 万盛经开区 is its ten townships, any other region its own code."""
    return sorted(WANSHENG_TOWNSHIPS) if code == WANSHENG_CODE else [code]


def unit_of(county_code: str, township_code: str) -> str:
    """The county-level unit a place counts under: 万盛经开区 for its ten townships, else its county."""
    return WANSHENG_CODE if township_code in WANSHENG_TOWNSHIPS else county_code
