"""What households and persons refuse, each with its stable code."""

from shared.errors import domain_error

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
