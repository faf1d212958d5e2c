"""What every room stands on: settings read from the environment, domain errors, the model catalogue, the
request deadline, the one event loop and cold-start loading. Imports nothing else of the gateway."""
