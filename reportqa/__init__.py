"""The `reportqa` command line: ingest, ask, chat, list, delete, evaluate, and start the web app.

The console script runs :func:`reportqa.cli.main`; ``python -m reportqa`` does the same.
"""

from reportqa.cli import main

__all__ = ["main"]
