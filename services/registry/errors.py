"""The registry's refusals, each with its stable code."""

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
HouseholdNoExists = domain_error(
    "HouseholdNoExists", 409, "household_no_duplicate", "户编号已存在", "This household number exists already"
)
StatusReasonRequired = domain_error(
    "StatusReasonRequired", 422, "status_reason_required", "改变贫困状态须说明原因", "A status change needs a reason"
)
PersonNotFound = domain_error("PersonNotFound", 404, "person_not_found", "未找到该人员", "Person not found")
IdNumberDuplicate = domain_error(
    "IdNumberDuplicate", 409, "id_number_duplicate", "该身份证号码已登记", "This ID number is registered already"
)
HeadCannotChange = domain_error(
    "HeadCannotChange", 422, "head_relation_fixed", "户主关系不能在此修改", "The head's relation cannot be changed here"
)
CadreUsernameTaken = domain_error(
    "CadreUsernameTaken",
    409,
    "cadre_username_duplicate",
    "该登录名已绑定其他干部",
    "This login is bound to another cadre",
)
PairingNotFound = domain_error("PairingNotFound", 404, "pairing_not_found", "未找到该结对关系", "Pairing not found")
PairingExists = domain_error(
    "PairingExists",
    409,
    "pairing_exists",
    "该干部与该户已有结对关系",
    "This cadre is already paired with this household",
)
PairingEnded = domain_error("PairingEnded", 409, "pairing_ended", "该结对关系已结束", "This pairing has ended")
PairingEndBeforeStart = domain_error(
    "PairingEndBeforeStart",
    422,
    "end_before_start",
    "结束日期不能早于开始日期",
    "The end date is before the start date",
)
CadreInactive = domain_error("CadreInactive", 422, "cadre_inactive", "该干部已停用", "This cadre is inactive")
