"""The REST API's Lambda authorizer: the API key a request presents (`x-api-key`, or `Authorization: Bearer`, as
OpenAI clients send it) returned as the usage identifier, which API Gateway checks against the usage plans."""

from __future__ import annotations

from gateway.http.authorizer import handler

__all__ = ["handler"]
