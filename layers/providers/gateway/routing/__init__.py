"""Where a prompt goes: its topic and complexity, the chain of providers it tries (the sLM first when it fits),
and the exact-match answer cache."""
