"""Exact point generation: shape specs (`spec`), the engine that draws them (`engine`), and a local prompt parser
(`parser`, reading with `vocabulary`, building with `prompt_spec`). Imports nothing else of the gateway."""
