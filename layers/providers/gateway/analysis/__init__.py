"""Text analysis with no I/O: secrets and personal data redacted, stack traces parsed, errors fingerprinted,
natural languages detected."""
