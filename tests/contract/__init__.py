"""Contracts: the checked-in OpenAPI documents, fuzzing from them, and load with failing providers."""
