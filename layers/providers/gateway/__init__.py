"""The AI gateway's shared layer: settings, provider clients, routing, resilience and stores.

Nothing here imports a provider SDK at import time; `gateway.providers.registry` imports each SDK
only when a function builds that provider, so a function pays only for the SDKs it uses.
"""
