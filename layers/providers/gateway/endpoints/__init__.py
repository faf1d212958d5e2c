"""What answers each event a function receives: the route (and its queued jobs), points, error analysis,
status and probes, and the training consumer's batches. Request and response models live with their endpoint."""
