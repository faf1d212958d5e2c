"""The configuration in force for one invocation: the settings (the core's and each provider's fields), the
provider keys (the Secrets Manager secret, read through `stores`, named by each provider), and the request
context handed to the endpoints."""
