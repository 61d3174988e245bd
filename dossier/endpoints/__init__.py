"""Endpoint estimation: Kaplan-Meier, exact rates, response endpoints, the results table."""
