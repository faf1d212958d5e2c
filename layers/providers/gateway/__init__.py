"""The AI gateway's shared layer, in rooms by concern (docs/architecture.md): `core`, `observability`, `analysis`,
`geometry`, `providers`, `stores`, `config`, `resilience`, `routing`, `learning`, `endpoints` and `http`. Each
room imports only the rooms below it (checked by import-linter, `make architecture`).

Nothing here imports a provider SDK at import time: a provider's module imports its SDK when the provider is first
built, so a function pays only for the SDKs it uses.
"""
