"""`python -m clicksend_mcp` runs the same command line as `clicksend-mcp`."""

from __future__ import annotations

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
