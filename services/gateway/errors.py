"""The gateway's own refusals when routing to services; those of logins are in `auth/errors.py`."""

from shared.errors import domain_error

UnknownService = domain_error(
    "UnknownService", 404, "unknown_service", "不存在名为 {service} 的服务", "No service named {service}"
)
ServiceUnavailable = domain_error(
    "ServiceUnavailable", 503, "service_unavailable", "服务 {service} 暂不可用", "Service {service} is unavailable"
)
ServiceTimeout = domain_error(
    "ServiceTimeout", 504, "service_timeout", "服务 {service} 响应超时", "Service {service} did not answer in time"
)
