"""armbench: what agentic-coding configurations really cost, and how reliably they work."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("armbench")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0+unknown"
