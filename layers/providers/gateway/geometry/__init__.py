"""Exact point generation: shape specs (`spec`), the engine that draws them (`engine`), a local prompt parser."""
