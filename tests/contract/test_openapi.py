"""The checked-in OpenAPI documents (openapi/<function>.json) are the ones the code generates."""

from __future__ import annotations

import json

from dev.local_api import routes_from_template
from scripts.openapi import OPENAPI_DIR, REGENERATE, differences, generated


def test_the_checked_in_openapi_documents_match_the_code() -> None:
    diffs = differences()
    assert not diffs, (
        "The OpenAPI documents in openapi/ differ from the code. Regenerate them with\n"
        f"  {REGENERATE}\nand commit the result. Differences:\n" + "".join(diffs)[:6000]
    )


def test_the_documents_cover_every_api_route_of_the_template_with_the_error_shape() -> None:
    documents = generated()
    assert sorted(documents) == ["chat.json", "generate_points.json", "handle_error.json", "route.json", "status.json"]
    paths = set()
    for name in documents:
        doc = json.loads((OPENAPI_DIR / name).read_text())
        paths |= {f"{method.upper()} {path}" for path, ops in doc["paths"].items() for method in ops}
        for ops in doc["paths"].values():
            for operation in ops.values():
                for status, response in operation["responses"].items():
                    if int(status) >= 400:
                        schema = response["content"]["application/json"]["schema"]
                        shape = "OpenAiErrorResponse" if name == "chat.json" else "ErrorResponse"  # OpenAI's clients
                        assert schema == {"$ref": f"#/components/schemas/{shape}"}, (name, status)
    # CORS preflights (OPTIONS) are answered by gateway.web's middleware, not by a documented operation; API
    # Gateway's greedy {name+} is OpenAPI's {name}.
    routed = {
        f"{route.method} {route.path.replace('+}', '}')}"
        for route in routes_from_template()
        if route.method != "OPTIONS"
    }
    assert paths == routed
