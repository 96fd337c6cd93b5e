"""Reading runs: statistics, the report model and its terminal, Markdown and HTML views with
their figures, exports, repricing views, and the two run loaders — `records` (every trial with
every ledger row, for exports) and `facts` (sums read in bulk, for `show` and reports).

The names below load on first use: `show` needs no scipy, and `report --json` no matplotlib.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from armbench.analysis.export import call_rows, trial_rows, write_rows
    from armbench.analysis.facts import RunFacts, TrialFacts, load_run_facts
    from armbench.analysis.records import RunRecords, load_run_records
    from armbench.analysis.render_html import render_html
    from armbench.analysis.render_md import render_markdown
    from armbench.analysis.report import build_report
    from armbench.analysis.report_model import Report

_WHERE = {
    "RunFacts": "facts",
    "TrialFacts": "facts",
    "load_run_facts": "facts",
    "RunRecords": "records",
    "load_run_records": "records",
    "Report": "report_model",
    "build_report": "report",
    "render_html": "render_html",
    "render_markdown": "render_md",
    "call_rows": "export",
    "trial_rows": "export",
    "write_rows": "export",
}

__all__ = [
    "Report",
    "RunFacts",
    "RunRecords",
    "TrialFacts",
    "build_report",
    "call_rows",
    "load_run_facts",
    "load_run_records",
    "render_html",
    "render_markdown",
    "trial_rows",
    "write_rows",
]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(f"armbench.analysis.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'armbench.analysis' has no attribute {name!r}")
