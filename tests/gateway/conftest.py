"""Gateway fixtures.

The session-wide `gateway_app` signs tokens with its own key (loaded from FUPIN_VAR_DIR), not with the
`signing_key` fixture, so tokens from `token_for` are refused by it. Here `gateway` is redefined to call the
gateway with tokens minted by the gateway's own issuer; everything else (one rolled-back transaction per test)
is as in tests/conftest.py.
"""

from collections.abc import AsyncIterator, Callable

import pytest

from tests.conftest import Api, Caller, _in_rolled_back_transaction


@pytest.fixture(scope="session")
def gateway_token_for(gateway_app) -> Callable[[Caller], str]:
    """Access tokens the gateway itself accepts (signed with its key)."""

    def make(caller: Caller) -> str:
        return gateway_app.state.issuer.access_token(
            subject=caller.subject,
            kind=caller.kind,
            roles=list(caller.roles),
            regions=list(caller.regions),
            name=caller.subject,
        )

    return make


@pytest.fixture
async def gateway(gateway_app, gateway_token_for) -> AsyncIterator[Api]:
    async for _ in _in_rolled_back_transaction(gateway_app):
        api = Api(gateway_app, gateway_token_for)
        yield api
        await api.http.aclose()
