"""The CLI's commands, one module each; ``dossier.cli`` registers them on the typer app.

A command parses options, reads the study settings from ``ctx.obj`` (a ``dossier.config.Settings``
loaded from dossier.toml), calls the package API and prints. It computes nothing itself.
"""
