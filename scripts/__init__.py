"""Developer scripts run as modules (`python -m scripts.<name>`); shell scripts live beside them."""
