"""armbench: what agentic-coding configurations really cost, and how reliably they work.

The Python API (armbench.api) is here at the top, loaded on first use so that `import armbench`
and the CLI stay fast:

    import armbench

    result = armbench.run("experiment.yaml")
    report = armbench.build_report(result)
"""

from typing import TYPE_CHECKING, Any

from armbench.core.version import VERSION as __version__

if TYPE_CHECKING:
    from armbench.api import RunResult, build_report, load_config, open_run, resume, run

__all__ = [
    "RunResult",
    "__version__",
    "build_report",
    "load_config",
    "open_run",
    "resume",
    "run",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from armbench import api

        return getattr(api, name)
    raise AttributeError(f"module 'armbench' has no attribute {name!r}")
