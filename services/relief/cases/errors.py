"""Refusals of the relief case routes, each with its stable code."""

from shared.errors import domain_error

CaseNotFound = domain_error("CaseNotFound", 404, "case_not_found", "未找到该救助案件", "Relief case not found")
CaseExists = domain_error(
    "CaseExists", 409, "case_exists", "该人员在此确诊日期已有救助案件",
    "This person already has a relief case for that diagnosis date",
)  # fmt: skip
CaseAlreadyOpen = domain_error(
    "CaseAlreadyOpen", 409, "case_already_open", "该人员已有未结案的救助案件", "This person has an open relief case"
)
HouseholdNotFound = domain_error(
    "HouseholdNotFound", 422, "household_not_found", "监测登记中没有该贫困户（或不在您的管辖范围内）",
    "The registry has no such household (or it is outside your scope)",
)  # fmt: skip
PersonNotInHousehold = domain_error(
    "PersonNotInHousehold", 422, "person_not_in_household", "该人员不是该户的家庭成员",
    "The person is not a member of that household",
)  # fmt: skip
HouseholdNotEligible = domain_error(
    "HouseholdNotEligible", 422, "household_not_eligible", "该户贫困状态（{status}）在确诊日不属于临时救助对象",
    "The household's status ({status}) is not eligible for relief on the diagnosis date",
)  # fmt: skip
DateTooEarly = domain_error(
    "DateTooEarly", 422, "date_too_early", "日期不能早于 {earliest}（新冠肺炎最早病例）",
    "The date is before {earliest}, the first COVID-19 cases",
)  # fmt: skip
AsOfTooLate = domain_error(
    "AsOfTooLate", 422, "as_of_too_late", "截至日期不能晚于今天之后 {days} 天", "as_of is more than {days} days ahead"
)
CloseBeforeDiagnosis = domain_error(
    "CloseBeforeDiagnosis", 422, "closed_before_diagnosis", "出院（死亡）日期不能早于确诊日期",
    "The discharge (or death) date is before the diagnosis date",
)  # fmt: skip
CloseReasonRequired = domain_error(
    "CloseReasonRequired", 422, "close_reason_required", "填写结案日期时须同时填写结案原因（出院或死亡），反之亦然",
    "A close date and a close reason (discharged or deceased) go together",
)  # fmt: skip
CaseNotClosed = domain_error(
    "CaseNotClosed", 409, "case_not_closed", "案件尚未结案，没有可更正的结案日期",
    "The case is not closed: it has no close date to correct",
)  # fmt: skip
CorrectionUnchanged = domain_error(
    "CorrectionUnchanged", 422, "correction_unchanged", "更正后的日期与原日期相同", "The corrected date is the same"
)
