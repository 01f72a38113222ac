"""What cadres and pairings refuse, each with its stable code."""

from shared.errors import domain_error

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
