"""Settings shared by every service (FUPIN_*) and the base of each service's own (REGISTRY_*, GATEWAY_*, ...)."""

import os
import secrets
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


class CommonSettings(BaseSettings):
    """What every service needs alike: where tokens are verified, where local files go, the PII keys."""

    model_config = SettingsConfigDict(env_prefix="FUPIN_", extra="ignore")

    var_dir: Path = REPO_ROOT / "var"
    gateway_url: str = "http://127.0.0.1:8000"
    jwks_url: str = ""
    token_issuer: str = "fupin-gateway"
    token_audience: str = "fupin-api"
    # Base64 keys (32 bytes each). Empty: generated once into var/keys/ for a local run; set them in production.
    pii_encryption_key: str = ""
    pii_index_key: str = ""
    # The secret internal services sign events with (each webhook has its own). Empty: generated into var/keys/.
    events_secret: str = ""

    def internal_events_secret(self) -> str:
        if self.events_secret:
            return self.events_secret
        made = local_secret(self.var_dir / "keys" / "events.secret", lambda: secrets.token_urlsafe(32).encode())
        return made.decode().strip()

    log_level: str = "INFO"
    # Where each service is reached by the others (JSON {"relief": "http://relief:8002"}); by default this machine
    # at the catalog's port.
    service_urls: dict[str, str] = {}

    def service_url(self, name: str, port: int) -> str:
        return self.service_urls.get(name, f"http://127.0.0.1:{port}").rstrip("/")

    @property
    def effective_jwks_url(self) -> str:
        return self.jwks_url or f"{self.gateway_url.rstrip('/')}/.well-known/jwks.json"


def async_dsn(url: str) -> str:
    """Pick the async driver: asyncpg for PostgreSQL, aiosqlite for SQLite."""
    if url.startswith(("postgres://", "postgresql://")):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    if url.startswith("sqlite://") and not url.startswith("sqlite+aiosqlite://"):
        return "sqlite+aiosqlite://" + url.split("://", 1)[1]
    return url


class ServiceSettings(BaseSettings):
    """Base of a service's settings; a subclass sets env_prefix and the default port and database file."""

    model_config = SettingsConfigDict(extra="ignore")

    database_url: str = ""
    host: str = "127.0.0.1"
    port: int = 0
    # The service's own client credentials at the gateway, for service-to-service calls.
    client_id: str = ""
    client_secret: str = ""
    # Event delivery (services that publish events), shared.events.DeliveryPolicy: the first retry's wait, the
    # longest wait between attempts to another service (retried for as long as it takes), and for a department's
    # webhook the attempts before it is dead and the longest wait (30 attempts over about 3 days); how often the
    # dispatcher looks for due deliveries and tries a waiting service again.
    events_dispatch: bool = True
    events_retry_base_s: float = 1.0
    events_retry_cap_s: float = 60.0
    events_webhook_max_attempts: int = 30
    events_webhook_retry_cap_s: float = 4 * 3600.0
    events_poll_s: float = 1.0
    events_probe_s: float = 2.0
    # Deliveries claimed in one round (sent side by side; to a service of ours, a hundred a POST), rounds under way
    # at once, and how long an answer may take (a later one is retried).
    events_batch: int = 100
    events_rounds: int = 4
    events_timeout_s: float = 15.0

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        return async_dsn(value) if value else value

    def own_credentials(self, service: str) -> tuple[str, str]:
        """The service's client id and secret at the gateway: as configured, or for a local run `svc-<service>`
        with a secret generated once into var/keys/ (`fupin up` registers it at the gateway)."""
        if self.client_id and self.client_secret:
            return self.client_id, self.client_secret
        path = common_settings().var_dir / "keys" / f"svc-{service}.secret"
        return f"svc-{service}", local_secret(path, lambda: secrets.token_urlsafe(32).encode()).decode().strip()

    def database_url_or_default(self, service: str) -> str:
        if self.database_url:
            return self.database_url
        var_dir = common_settings().var_dir
        var_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite+aiosqlite:///{var_dir / (service + '.db')}"


@lru_cache
def common_settings() -> CommonSettings:
    return CommonSettings()


def local_secret(path: Path, make: Callable[[], bytes]) -> bytes:
    """The secret kept at `path`, made once by `make` (mode 0600) when missing: for local runs, never committed.

    Created under a temporary name and linked into place, so processes starting together all end up with the one
    secret that won the race.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(make())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_bytes()
