"""Refusals of the monitoring routes, each with its stable code."""

from shared.errors import domain_error

# --- health events: transitions (rules.TRANSITIONS) --------------------------------------------------------------
PersonDeceased = domain_error(
    "PersonDeceased", 409, "person_deceased",
    "该人员已死亡，不能再登记健康事件", "The person has died: no health event can follow",
)  # fmt: skip
DischargeWithoutConfirmation = domain_error(
    "DischargeWithoutConfirmation", 422, "discharge_without_confirmation",
    "只有确诊在治的人员才能登记出院", "Only a person currently confirmed can be discharged",
)  # fmt: skip
ReleaseWithoutIsolation = domain_error(
    "ReleaseWithoutIsolation", 422, "release_without_isolation",
    "只有正在隔离的人员才能解除隔离", "Only a person in isolation can be released",
)  # fmt: skip
ClearWithoutSuspicion = domain_error(
    "ClearWithoutSuspicion", 422, "clear_without_suspicion",
    "只有疑似或隔离中的人员才能排除疑似", "Only a suspected or isolated person can be cleared",
)  # fmt: skip
AlreadyConfirmed = domain_error(
    "AlreadyConfirmed", 422, "already_confirmed",
    "该人员已确诊，其后只能登记出院或死亡", "The person is confirmed: only discharge or death can follow",
)  # fmt: skip
HealthStatusUnchanged = domain_error(
    "HealthStatusUnchanged", 422, "health_status_unchanged",
    "该人员已处于该状态", "The person is in that state already",
)  # fmt: skip

# --- health events: dates and details ------------------------------------------------------------------------------
HealthEventBeforeBirth = domain_error(
    "HealthEventBeforeBirth", 422, "health_event_before_birth",
    "事件日期早于该人员的出生日期", "The event is dated before the person's birth",
)  # fmt: skip
HealthEventInFuture = domain_error(
    "HealthEventInFuture", 422, "health_event_in_future",
    "事件日期不能晚于今天（北京时间）", "The event is dated after today (Asia/Shanghai)",
)  # fmt: skip
HealthEventBeforePrevious = domain_error(
    "HealthEventBeforePrevious", 422, "health_event_before_previous",
    "事件日期早于该人员上一次健康事件的日期 {previous}", "The event is dated before the person's previous one ({previous})",
)  # fmt: skip
HealthDetailRequired = domain_error(
    "HealthDetailRequired", 422, "health_detail_required",
    "{kind_zh}事件必须填写此项", "A {kind} event needs this field",
)  # fmt: skip
HealthDetailNotAllowed = domain_error(
    "HealthDetailNotAllowed", 422, "health_detail_not_allowed",
    "{kind_zh}事件不填写此项", "A {kind} event does not take this field",
)  # fmt: skip

# --- 返贫 and dibao referrals ---------------------------------------------------------------------------------------
HouseholdAlreadyReturned = domain_error(
    "HouseholdAlreadyReturned", 409, "household_already_returned",
    "该户已标记为返贫", "The household is marked as returned to poverty already",
)  # fmt: skip
HouseholdNotLifted = domain_error(
    "HouseholdNotLifted", 409, "household_not_lifted",
    "该户尚未脱贫，不能标记返贫", "The household has not been lifted out of poverty, so it cannot return to it",
)  # fmt: skip
DibaoReferralNotFound = domain_error(
    "DibaoReferralNotFound", 404, "dibao_referral_not_found", "未找到该低保推荐", "Dibao referral not found"
)
HouseholdHasDibao = domain_error(
    "HouseholdHasDibao", 409, "household_has_dibao", "该户已享受低保", "The household receives dibao already"
)
DibaoReferralPending = domain_error(
    "DibaoReferralPending", 409, "dibao_referral_pending",
    "该户已有待民政部门决定的低保推荐", "The household has a referral awaiting the civil-affairs decision",
)  # fmt: skip
DibaoReferralDecided = domain_error(
    "DibaoReferralDecided", 409, "dibao_referral_decided",
    "该低保推荐已有决定，不能再次决定", "This referral has been decided already",
)  # fmt: skip
DecisionBeforeReferral = domain_error(
    "DecisionBeforeReferral", 422, "decision_before_referral",
    "决定日期不能早于推荐日期", "The decision is dated before the referral",
)  # fmt: skip

# --- isolation check-ins ---------------------------------------------------------------------------------------------
CheckinExists = domain_error(
    "CheckinExists",
    409,
    "checkin_exists",
    "该人员当日已有随访记录",
    "This person has a check-in for that day already",
)
