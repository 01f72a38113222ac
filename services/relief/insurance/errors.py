"""Refusals of the exclusive insurance (专属保险, measure 23), each with its stable code."""

from shared.errors import domain_error

# --- policies -------------------------------------------------------------------------------------------------------
PolicyNotFound = domain_error("PolicyNotFound", 404, "policy_not_found", "未找到该保单", "Policy not found")
CoverDatesInvalid = domain_error(
    "CoverDatesInvalid", 422, "cover_dates_invalid",
    "保障期止日不能早于起日", "The cover ends before it starts",
)  # fmt: skip
PolicyGroupLocked = domain_error(
    "PolicyGroupLocked", 409, "policy_group_locked",
    "该保单已有参保人员，不能再改变参保群体", "The policy has insured persons: its insured group cannot change",
)  # fmt: skip

# --- enrolments -----------------------------------------------------------------------------------------------------
InsuredGroupMismatch = domain_error(
    "InsuredGroupMismatch", 422, "insured_group_mismatch",
    "该保单的参保群体为{group_zh}，不能参保{kind_zh}",
    "The policy insures {group}: it does not take {kind}",
)  # fmt: skip
HouseholdNotEligible = domain_error(
    "HouseholdNotEligible", 422, "household_not_eligible",
    "该户已脱贫且不再享受政策，不能参保", "The household is lifted and no longer takes policies: it cannot be insured",
)  # fmt: skip
PersonNotInHousehold = domain_error(
    "PersonNotInHousehold", 422, "person_not_in_household",
    "人员 {person_id} 不是该户家庭成员", "Person {person_id} is not a member of the household",
)  # fmt: skip
EnrolmentNotFound = domain_error(
    "EnrolmentNotFound", 404, "enrolment_not_found", "未找到该参保记录", "Enrolment not found"
)

# --- claims ---------------------------------------------------------------------------------------------------------
ClaimNotFound = domain_error("ClaimNotFound", 404, "claim_not_found", "未找到该理赔", "Claim not found")
InsuredNotEnrolled = domain_error(
    "InsuredNotEnrolled", 422, "insured_not_enrolled",
    "该人员未参保专属保险", "The insured is not enrolled under any policy",
)  # fmt: skip
ClaimNotCovered = domain_error(
    "ClaimNotCovered", 422, "claim_not_covered",
    "该日期不在其保单保障期内，或保单不保该项", "No policy of the insured covers this kind on that date",
)  # fmt: skip
ClaimExists = domain_error(
    "ClaimExists", 409, "claim_exists",
    "该人员已有此项理赔，每人每项只赔一次", "The insured has a claim of this kind already: one per person and kind",
)  # fmt: skip

# --- the claim workflow: opened → approved → paid, or opened → rejected --------------------------------------------
ClaimAlreadyApproved = domain_error(
    "ClaimAlreadyApproved", 409, "claim_already_approved", "该理赔已审核通过", "The claim is approved already"
)
ClaimAlreadyRejected = domain_error(
    "ClaimAlreadyRejected", 409, "claim_already_rejected", "该理赔已被拒绝", "The claim is rejected already"
)
ClaimAlreadyPaid = domain_error(
    "ClaimAlreadyPaid", 409, "claim_already_paid", "该理赔已赔付", "The claim is paid already"
)
ClaimNotApproved = domain_error(
    "ClaimNotApproved", 409, "claim_not_approved",
    "该理赔尚未审核通过，不能赔付", "The claim is not approved: it cannot be paid",
)  # fmt: skip
