"""Request and response bodies of the auth endpoints."""

from pydantic import BaseModel, ConfigDict, Field


class TokenResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"access_token": "eyJ...", "token_type": "bearer", "expires_in": 900, "refresh_token": "x1y2..."}
            ]
        }
    )

    access_token: str
    token_type: str = "bearer"
    expires_in: int
    refresh_token: str | None = None


class Me(BaseModel):
    subject: str = Field(examples=["wanzhou"])
    kind: str = Field(examples=["user"])
    name: str = Field(examples=["万州区扶贫办"])
    roles: list[str] = Field(examples=[["county_officer"]])
    regions: list[str] = Field(examples=[["500101"]])
    permissions: list[str] = Field(examples=[["registry:read"]])


class UserCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "username": "wulong",
                    "password": "a long passphrase",
                    "display_name": "武隆区扶贫办",
                    "roles": ["county_officer"],
                    "regions": ["500156"],
                }
            ]
        },
    )

    username: str = Field(min_length=2, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")
    password: str = Field(min_length=8, max_length=200)
    display_name: str = Field(min_length=1, max_length=100)
    roles: list[str] = Field(min_length=1)
    regions: list[str] = Field(min_length=1)


class UserOut(BaseModel):
    id: str
    username: str
    display_name: str
    roles: list[str]
    regions: list[str]
    active: bool
