"""`/auth/token`, `/auth/me`, `/.well-known/jwks.json`, and user administration."""

import base64
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request

from services.gateway.auth.errors import InvalidClient, InvalidRequest, UnsupportedGrant
from services.gateway.auth.schemas import Me, TokenResponse, UserCreate, UserOut
from services.gateway.auth.service import Logins, TokenSet, create_user
from services.gateway.settings import gateway_settings
from shared.audit import AuditDep
from shared.auth import Principal, current_principal, require
from shared.db import SessionDep

router = APIRouter(tags=["gateway: auth 认证"])


def _response(tokens: TokenSet) -> TokenResponse:
    return TokenResponse(
        access_token=tokens.access_token, expires_in=tokens.expires_in, refresh_token=tokens.refresh_token
    )


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidClient() from exc
    return client_id, secret


def _required(name: str, value: str | None) -> str:
    if not value:
        raise InvalidRequest(field=name, name=name)
    return value


@router.post("/auth/token", operation_id="auth_token", response_model=TokenResponse)
async def token(
    request: Request,
    session: SessionDep,
    grant_type: Annotated[str, Form(description="password | client_credentials | refresh_token")],
    username: Annotated[str | None, Form()] = None,
    password: Annotated[str | None, Form()] = None,
    client_id: Annotated[str | None, Form()] = None,
    client_secret: Annotated[str | None, Form()] = None,
    refresh_token: Annotated[str | None, Form()] = None,
    scope: Annotated[str | None, Form()] = None,
) -> TokenResponse:
    """Log in: password, client credentials or refresh token grant 登录取令牌"""
    logins = Logins(session, request.app.state.issuer, gateway_settings())
    if grant_type == "password":
        address = request.client.host if request.client else "unknown"
        tokens = await logins.password(_required("username", username), _required("password", password), address)
    elif grant_type == "client_credentials":
        basic = _basic_credentials(request)
        cid, secret = basic or (_required("client_id", client_id), _required("client_secret", client_secret))
        tokens = await logins.client_credentials(cid, secret)
    elif grant_type == "refresh_token":
        tokens = await logins.refresh(_required("refresh_token", refresh_token))
    else:
        raise UnsupportedGrant(field="grant_type")
    return _response(tokens)


@router.get("/auth/me", operation_id="auth_me", response_model=Me)
async def me(principal: Annotated[Principal, Depends(current_principal)]) -> Me:
    """Who the token belongs to, with roles, regions and permissions 当前用户"""
    return Me(
        subject=principal.subject,
        kind=principal.kind,
        name=principal.name,
        roles=list(principal.roles),
        regions=list(principal.regions),
        permissions=sorted(principal.permissions),
    )


@router.get("/.well-known/jwks.json", operation_id="jwks", tags=["gateway: auth 认证"])
async def jwks(request: Request) -> dict:
    """Public keys that verify access tokens 令牌验签公钥"""
    return request.app.state.signing_key.jwks()


@router.post("/auth/users", operation_id="auth_create_user", response_model=UserOut, status_code=201)
async def add_user(
    body: UserCreate,
    session: SessionDep,
    audit: AuditDep,
    principal: Annotated[Principal, Depends(require("users:manage"))],
) -> UserOut:
    """Create a user 新建用户"""
    user = await create_user(
        session,
        username=body.username,
        password=body.password,
        display_name=body.display_name,
        roles=body.roles,
        regions=body.regions,
    )
    await audit.record(
        principal,
        action="user.create",
        entity="user",
        entity_id=user.id,
        changes={"username": user.username, "roles": user.roles, "regions": user.regions},
    )
    return UserOut(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        roles=user.roles,
        regions=user.regions,
        active=user.active,
    )
