"""A stand-in upstream: one household-sized JSON record at a registry path, no database, no token check.

Behind the gateway it isolates what forwarding itself costs (the request's cost without a database).
"""

from fastapi import FastAPI

app = FastAPI()
RECORD = {
    "id": "0193a6f0-7c1e-7c3a-9d2e-5b8f1a2c3d4e",
    "household_no": "500101100200000123",
    "village_code": "500101100200",
    "status": "not_lifted",
    "attribute": "dibao",
    "area_class": "rural",
    "head_name": "张*华",
    "member_count": 4,
    "phone": "138****1234",
    "updated_at": "2020-02-10T08:00:00+08:00",
    "address": "x" * 200,
}


@app.get("/api/v1/registry/standin/{record_id}")
async def record(record_id: str) -> dict:
    return RECORD


@app.get("/healthz")
async def healthz() -> dict:
    return {"status": "ok"}
