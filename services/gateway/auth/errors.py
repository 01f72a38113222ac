"""What logins refuse. Token endpoint codes are OAuth 2.0's (RFC 6749 §5.2)."""

from shared.errors import domain_error

# 401, not RFC 6749's 400: a credential or refresh token that does not authenticate is refused like a bad token.
InvalidGrant = domain_error(
    "InvalidGrant", 401, "invalid_grant", "用户名、密码或刷新令牌无效", "Invalid user name, password or refresh token"
)
InvalidClient = domain_error("InvalidClient", 401, "invalid_client", "客户端认证失败", "Client authentication failed")
UnsupportedGrant = domain_error(
    "UnsupportedGrant", 400, "unsupported_grant_type", "不支持的授权类型", "Unsupported grant type"
)
InvalidRequest = domain_error(
    "InvalidRequest", 400, "invalid_request", "缺少必填参数 {name}", "Missing required parameter {name}"
)
TooManyFailures = domain_error(
    "TooManyFailures",
    429,
    "too_many_login_failures",
    "登录失败次数过多，请 {retry_after} 秒后再试",
    "Too many failed logins; try again in {retry_after} s",
)
UserExists = domain_error("UserExists", 409, "username_taken", "该用户名已存在", "This user name is taken")
UnknownRole = domain_error("UnknownRole", 422, "unknown_role", "未知角色 {role}", "Unknown role {role}")
