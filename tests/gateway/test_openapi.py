"""The merged OpenAPI document: services.gateway.openapi.merge, /openapi.json and /docs of the gateway."""

import copy

from services.gateway.app import create_app
from services.gateway.openapi import merge
from shared.migrations import upgrade_async
from tests.support.gateway import closed_port

REF = "#/components/schemas/"


def ref(name: str) -> dict:
    return {"$ref": REF + name}


def operation(schema: dict) -> dict:
    return {"get": {"responses": {"200": {"content": {"application/json": {"schema": schema}}}}}}


def response_schema(document: dict, path: str) -> dict:
    return document["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]


def resolve(document: dict, schema: dict) -> dict:
    """Follow $refs to the schema they name."""
    seen = 0
    while "$ref" in schema:
        seen += 1
        assert seen < 20, "reference loop"
        schema = document["components"]["schemas"][schema["$ref"].removeprefix(REF)]
    return schema


def all_refs(node) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in all_refs(value)]
    if isinstance(node, list):
        return [r for item in node for r in all_refs(item)]
    return []


GATEWAY_PROBLEM = {"type": "object", "properties": {"code": {"type": "string"}}}
REGISTRY_PROBLEM = {"type": "object", "properties": {"code": {"type": "string"}, "household": {"type": "string"}}}
SHARED = {"type": "object", "properties": {"id": {"type": "string"}}}


def base_document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {"title": "gateway", "version": "1.0.0"},
        "paths": {
            "/auth/token": operation(ref("Problem")),
            "/healthz": operation({"type": "object"}),
        },
        "components": {
            "schemas": {"Problem": GATEWAY_PROBLEM, "Shared": SHARED},
            "securitySchemes": {"OAuth2PasswordBearer": {"type": "oauth2", "flows": {}}},
        },
        "tags": [{"name": "gateway: auth 认证"}],
    }


def registry_document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {"title": "registry", "version": "1.0.0"},
        "paths": {
            "/api/v1/registry/households": operation(ref("Problem")),
            "/api/v1/registry/households/{id}": operation({"type": "array", "items": ref("Wrapper")}),
            "/api/v1/registry/shared": operation(ref("Shared")),
            "/healthz": operation({"type": "string", "title": "registry health"}),
            "/readyz": operation({"type": "object"}),
            "/metrics": operation({"type": "string"}),
        },
        "components": {
            "schemas": {
                "Problem": REGISTRY_PROBLEM,
                "Shared": copy.deepcopy(SHARED),
                "Wrapper": {"type": "object", "properties": {"problem": ref("Problem")}},
                "HouseholdOut": {"type": "object"},
            },
            "securitySchemes": {
                "OAuth2PasswordBearer": {"type": "oauth2", "flows": {"password": {"tokenUrl": "/elsewhere"}}},
                "ApiKey": {"type": "apiKey", "in": "header", "name": "X-Key"},
            },
        },
        "tags": [{"name": "registry: households 贫困户"}, {"name": "gateway: auth 认证", "description": "dup"}],
    }


def test_paths_are_merged_as_they_are():
    merged = merge(base_document(), {"registry": registry_document()})
    assert set(merged["paths"]) == {
        "/auth/token",
        "/healthz",
        "/api/v1/registry/households",
        "/api/v1/registry/households/{id}",
        "/api/v1/registry/shared",
    }
    assert merged["components"]["schemas"]["HouseholdOut"] == {"type": "object"}


def test_health_paths_of_services_are_dropped_and_the_gateways_kept():
    merged = merge(base_document(), {"registry": registry_document()})
    assert response_schema(merged, "/healthz") == {"type": "object"}  # the gateway's own, not the registry's
    assert "/readyz" not in merged["paths"]
    assert "/metrics" not in merged["paths"]


def test_a_schema_name_used_for_different_shapes_is_renamed_with_the_service_prefix():
    merged = merge(base_document(), {"registry": registry_document()})
    schemas = merged["components"]["schemas"]
    assert schemas["Problem"] == GATEWAY_PROBLEM
    assert schemas["RegistryProblem"] == REGISTRY_PROBLEM
    assert response_schema(merged, "/auth/token") == ref("Problem")
    assert response_schema(merged, "/api/v1/registry/households") == ref("RegistryProblem")
    # refs inside the service's other schemas are rewritten too
    assert schemas["Wrapper"]["properties"]["problem"] == ref("RegistryProblem")
    # the same shape under the same name is kept once, not renamed
    assert schemas["Shared"] == SHARED
    assert "RegistryShared" not in schemas
    assert response_schema(merged, "/api/v1/registry/shared") == ref("Shared")


def test_every_ref_in_the_merged_document_resolves():
    merged = merge(base_document(), {"registry": registry_document(), "cadres": registry_document()})
    schemas = merged["components"]["schemas"]
    for target in all_refs(merged):
        assert target.startswith(REF)
        assert target.removeprefix(REF) in schemas, target


def test_two_services_with_the_same_name_for_different_shapes():
    one = {"paths": {"/api/v1/one/x": operation(ref("Item"))}, "components": {"schemas": {"Item": {"type": "string"}}}}
    two = {
        "paths": {"/api/v1/two/x": operation(ref("Item"))},
        "components": {"schemas": {"Item": {"type": "integer"}}},
    }
    merged = merge({"paths": {}}, {"one": one, "two": two})
    assert resolve(merged, response_schema(merged, "/api/v1/one/x")) == {"type": "string"}
    assert resolve(merged, response_schema(merged, "/api/v1/two/x")) == {"type": "integer"}
    assert merged["components"]["schemas"]["TwoItem"] == {"type": "integer"}


def test_a_same_named_schema_that_refers_to_a_renamed_one_keeps_each_documents_meaning():
    """`Envelope` reads the same in both documents, but its `Problem` is a different shape in each.

    Whatever names the merge picks, each path must still resolve to the shapes of its own document.
    """
    base = {
        "paths": {"/auth/token": operation(ref("Envelope"))},
        "components": {
            "schemas": {
                "Problem": GATEWAY_PROBLEM,
                "Envelope": {"type": "object", "properties": {"problem": ref("Problem")}},
            }
        },
    }
    service = {
        "paths": {"/api/v1/registry/households": operation(ref("Envelope"))},
        "components": {
            "schemas": {
                "Problem": REGISTRY_PROBLEM,
                "Envelope": {"type": "object", "properties": {"problem": ref("Problem")}},
            }
        },
    }
    merged = merge(base, {"registry": service})
    gateway_envelope = resolve(merged, response_schema(merged, "/auth/token"))
    registry_envelope = resolve(merged, response_schema(merged, "/api/v1/registry/households"))
    assert resolve(merged, gateway_envelope["properties"]["problem"]) == GATEWAY_PROBLEM
    assert resolve(merged, registry_envelope["properties"]["problem"]) == REGISTRY_PROBLEM


def test_merge_leaves_its_inputs_alone():
    base, registry = base_document(), registry_document()
    base_before, registry_before = copy.deepcopy(base), copy.deepcopy(registry)
    merge(base, {"registry": registry})
    assert base == base_before
    assert registry == registry_before


def test_security_schemes_and_tags():
    merged = merge(base_document(), {"registry": registry_document()})
    schemes = merged["components"]["securitySchemes"]
    assert schemes["OAuth2PasswordBearer"] == {"type": "oauth2", "flows": {}}  # the gateway's wins
    assert schemes["ApiKey"]["type"] == "apiKey"
    names = [t["name"] for t in merged["tags"]]
    assert names == ["gateway: auth 认证", "registry: households 贫困户"]
    assert "description" not in merged["tags"][0]


def test_merge_with_no_services_is_the_base():
    base = base_document()
    assert merge(base, {}) == base


# --- the gateway's routes -------------------------------------------------------------------------------------


async def test_gateway_openapi_lists_auth_token_and_the_password_flow(gateway):
    response = await gateway.get("/openapi.json", None)
    assert response.status_code == 200, response.text
    document = response.json()
    assert document["openapi"].startswith("3.")
    assert "post" in document["paths"]["/auth/token"]
    assert "/auth/me" in document["paths"]
    assert "/.well-known/jwks.json" in document["paths"]
    assert "/openapi.json" not in document["paths"] and "/docs" not in document["paths"]
    password_flows = [
        scheme["flows"]["password"]
        for scheme in document["components"]["securitySchemes"].values()
        if scheme.get("type") == "oauth2" and "password" in scheme.get("flows", {})
    ]
    assert len(password_flows) == 1
    assert password_flows[0]["tokenUrl"] == "/auth/token"
    assert "x-unavailable-services" not in document


async def test_gateway_docs_is_swagger_ui_on_the_merged_document(gateway):
    response = await gateway.get("/docs", None)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "swagger-ui" in html.lower()
    assert "SwaggerUIBundle" in html
    assert "'/openapi.json'" in html or '"/openapi.json"' in html
    assert "persistAuthorization" in html


async def test_openapi_with_an_unreachable_service_names_it(databases):
    url = await databases.create("gateway_openapi")
    await upgrade_async("gateway", url)
    app = create_app(database_url=url, upstreams={"registry": f"http://127.0.0.1:{closed_port()}"})
    import httpx

    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test") as http:
            response = await http.get("/openapi.json")
    assert response.status_code == 200, response.text
    document = response.json()
    assert document["x-unavailable-services"] == ["registry"]
    assert "/auth/token" in document["paths"]
