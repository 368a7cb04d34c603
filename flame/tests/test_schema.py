from __future__ import annotations

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_schema_generates_without_warnings(tmp_path):
    # --fail-on-warn turns every drf-spectacular warning (unresolvable serializer, missing
    # type hint, path parameter mismatch) into a failure.
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))

    text = out.read_text()
    assert "/api/auth/login" in text
    assert "/api/users/{id}" in text


def test_schema_and_docs_are_served_offline(client):
    schema = client.get("/api/schema/")
    docs = client.get("/api/docs/")

    assert schema.status_code == 200
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
    assert "<script>" not in html  # the split view keeps scripts out of the page (CSP)


def _schema(client) -> dict:
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def test_token_refresh_is_documented_at_a_path_that_answers(client, admin_user):
    paths = _schema(client)["paths"]

    assert "/api/auth/refresh/" in paths
    assert not [path for path in paths if "//" in path]
    answer = client.post("/api/auth/refresh/", {"refresh": "x"}, content_type="application/json")
    assert answer.status_code == 401  # routed (a bad token), not 404


def test_every_operation_documents_the_error_shape(client):
    schema = _schema(client)

    assert set(schema["components"]["schemas"]["Error"]["properties"]) == {"error"}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            documented = set(operation["responses"])
            expected = {"400", "401", "403", "404", "429"}
            if method in {"post", "put", "patch", "delete"}:
                expected |= {"409", "413"}
            assert expected <= documented, (method, path)
            error = operation["responses"]["400"]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/Error"}
