"""The relief service starts, answers its probes, documents its routes, and takes events only when signed."""

import json

from shared.events import SIGNATURE_HEADER, sign
from shared.settings import common_settings
from tests.conftest import Api


async def test_probes_answer(relief_app, token_for):
    # outside a test transaction: on SQLite an open one would hold the database the readiness check pings
    api = Api(relief_app, token_for)
    try:
        assert (await api.get("/healthz", caller=None)).status_code == 200
        ready = await api.get("/readyz", caller=None)
        assert ready.status_code == 200, ready.text
    finally:
        await api.http.aclose()


async def test_an_unsigned_event_is_refused(relief):
    response = await relief.post("/api/v1/relief/events/inbox", caller=None, content=b"{}")
    assert response.status_code == 401
    assert response.json()["code"] == "bad_signature"


async def test_a_signed_event_of_no_interest_is_accepted_once(relief):
    body = json.dumps(
        {"id": "01900000-0000-7000-8000-000000000001", "type": "contact.recorded", "version": 1,
         "source": "registry", "occurred_at": "2020-02-10T08:00:00+08:00", "data": {}}
    ).encode()  # fmt: skip
    headers = {SIGNATURE_HEADER: sign(common_settings().internal_events_secret(), body)}
    first = await relief.post("/api/v1/relief/events/inbox", caller=None, content=body, headers=headers)
    again = await relief.post("/api/v1/relief/events/inbox", caller=None, content=body, headers=headers)
    assert (first.json(), again.json()) == ({"accepted": True}, {"accepted": False})
