from functools import lru_cache
from pathlib import Path

from pydantic_settings import SettingsConfigDict

from services.catalog import SERVICES
from shared.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore")

    port: int = 8000
    # PEM of the Ed25519 signing key; empty: generated once into var/keys/ for a local run.
    signing_key_file: Path | None = None
    access_token_ttl_s: int = 900
    refresh_token_ttl_s: int = 14 * 24 * 3600
    # Upstream base URLs by service name; services not named here use 127.0.0.1 and their catalog port.
    upstreams: dict[str, str] = {}
    upstream_timeout_s: float = 30.0
    upstream_connect_timeout_s: float = 2.0
    # Failed-login limits within the window, per user name and per client address.
    login_window_s: int = 900
    login_max_failures_per_user: int = 5
    login_max_failures_per_address: int = 30

    def upstream_urls(self) -> dict[str, str]:
        urls = {s.name: f"http://127.0.0.1:{s.port}" for s in SERVICES if s.routed}
        urls.update(self.upstreams)
        return urls


@lru_cache
def gateway_settings() -> GatewaySettings:
    return GatewaySettings()
