"""Renderers: they read the results table and verdicts and never compute statistics."""
