"""The HTTP side every function shares: the FastAPI app and the one place errors become HTTP responses, the
envelope every request passes (correlation id, body cap, CORS, security headers, log line, metrics), and the
Lambda entry (Powertools around Mangum, other events dispatched)."""
