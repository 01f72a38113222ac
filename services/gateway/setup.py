"""What the launcher (`fupin up`) has the gateway do before anything starts, once the databases are migrated: its
signing key made when there is none yet (before several processes could race for it), and a client of its own
(`svc-<name>`, role "service") for each service of the catalog that calls others, with the secret that service
reads from its settings or from var/keys/ (ServiceSettings.own_credentials)."""

from services.catalog import SERVICES
from services.gateway.auth.service import ensure_service_client
from services.gateway.keys import load_or_create
from services.gateway.models import plumbing
from services.gateway.settings import gateway_settings
from shared.db import Database
from shared.settings import ServiceSettings, common_settings


async def prepare() -> list[str]:
    settings = gateway_settings()
    load_or_create(settings.signing_key_file or common_settings().var_dir / "keys" / "gateway_ed25519.pem")
    said = []
    gateway = Database(settings.database_url_or_default("gateway"), plumbing)
    try:
        async with gateway.sessions.begin() as session:
            for entry in SERVICES:
                if entry.calls_services:
                    client_id, secret = ServiceSettings(_env_prefix=f"{entry.name.upper()}_").own_credentials(
                        entry.name
                    )
                    if await ensure_service_client(
                        session, client_id=client_id, secret=secret, display_name=f"{entry.name} service"
                    ):
                        said.append(f"service client {client_id} registered at the gateway")
    finally:
        await gateway.dispose()
    return said
