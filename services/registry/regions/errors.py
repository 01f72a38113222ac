"""What the regions refuse, each with its stable code (a village code others give must be registered first)."""

from shared.errors import domain_error

RegionNotFound = domain_error("RegionNotFound", 404, "region_not_found", "未找到该行政区划", "Region not found")
TownshipNotFound = domain_error(
    "TownshipNotFound", 422, "township_not_found", "所属乡镇（街道）不存在", "The village's township does not exist"
)
VillageNotFound = domain_error(
    "VillageNotFound",
    422,
    "village_not_found",
    "村（社区）代码不存在，请先登记该村",
    "Unknown village code: register the village first",
)
RegionExists = domain_error(
    "RegionExists", 409, "region_exists", "该行政区划代码已存在", "This region code exists already"
)
