"""The free-executor-paradox data, imported and reported: armbench must reproduce the published
per-cell table from the records, keep the API failure apart, and give exact p-values.

Reads ../shared/datasets (or $ARMBENCH_SHARED_DATASETS); skipped when the data is absent.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from armbench.cli import app

DATASETS = Path(
    os.environ.get(
        "ARMBENCH_SHARED_DATASETS", Path(__file__).resolve().parents[3] / "shared" / "datasets"
    )
)
FEP = DATASETS / "free-executor-paradox"

# The paper's table 4.1 (paper/paper.md at the dataset's commit): judged trials, passes, and
# success-only medians of wall seconds, iterations and dollars.
PUBLISHED = {
    ("A", "T1"): (3, 3, 253, 36, 1.74),
    ("A", "T2"): (4, 3, 233, 26, 1.11),
    ("A", "T3"): (3, 3, 69, 6, 0.17),
    ("B", "T1"): (4, 3, 484, 38, 2.27),
    ("B", "T2"): (3, 3, 443, 27, 1.38),
    ("B", "T3"): (3, 3, 348, 12, 0.42),
    ("C", "T1"): (3, 3, 400, 28, 1.67),
    ("C", "T2"): (3, 3, 275, 20, 0.92),
    ("C", "T3"): (3, 3, 145, 11, 0.38),
    ("D", "T1"): (4, 3, 758, 89, 0.30),
    ("D", "T2"): (4, 3, 507, 70, 0.23),
    ("D", "T3"): (3, 3, 208, 29, 0.08),
}


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    if not (FEP / "trials.csv").is_file():
        pytest.skip(f"published data not found at {FEP} (set ARMBENCH_SHARED_DATASETS)")
    out = tmp_path_factory.mktemp("fep")
    runner = CliRunner()
    imported = runner.invoke(app, ["import", "fep", str(FEP), "--out", str(out / "runs")])
    assert imported.exit_code == 0, imported.output
    (run_dir,) = (out / "runs").iterdir()
    json_path = out / "report.json"
    reported = runner.invoke(app, ["report", str(run_dir), "--json", str(json_path)])
    assert reported.exit_code == 0, reported.output
    data: dict[str, object] = json.loads(json_path.read_text())
    return data


def test_the_published_per_cell_table_is_reproduced(report: dict[str, object]) -> None:
    cells = {(c["arm"], c["task"]): c for c in report["cells"]}  # type: ignore[attr-defined]
    assert set(cells) == set(PUBLISHED)
    for key, (judged, passes, wall, iterations, cost) in PUBLISHED.items():
        cell = cells[key]
        assert cell["n"] - cell["n_infra"] == judged, key
        assert cell["n_pass"] == passes, key
        median = cell["success_median"]
        assert abs(median["wall_s"] - wall) <= 0.6, key  # the paper rounds 757.48 up
        assert median["iterations"] == iterations, key
        assert round(median["cost_usd"], 2) == cost, key


def test_the_api_failure_is_an_infra_error_not_a_fail(report: dict[str, object]) -> None:
    assert report["trials"] == 41
    assert report["infra_classes"] == {"quota": 1}
    a_t1 = next(c for c in report["cells"] if (c["arm"], c["task"]) == ("A", "T1"))  # type: ignore[attr-defined]
    assert (a_t1["n"], a_t1["n_infra"], a_t1["n_fail"], a_t1["pass_rate"]) == (4, 1, 0, 1.0)
    assert a_t1["pass_rate_itt"] == 0.75


def test_exact_p_values_and_cliffs_deltas(report: dict[str, object]) -> None:
    cost = {
        (c["task"], c["a"], c["b"]): c
        for c in report["comparisons"]  # type: ignore[attr-defined]
        if c["metric"] == "cost_usd"
    }
    assert len(cost) == 18
    # the study's trials were not seeded: trial numbers do not pair them
    assert all(c["paired"] is None for c in report["comparisons"])  # type: ignore[attr-defined]
    for c in cost.values():
        # A's T3 passes tie on cost (0.170234 twice): there the exact test is by permutation
        assert c["p_exact"] is not None and c["p_exact_method"] in {"exact", "permutation"}
        assert -1 <= c["cliffs_delta"] <= 1
    # 3 vs 3 passes, fully separated: the paper's normal approximation said 0.050; the exact
    # two-sided p is 2 / C(6, 3) = 0.1 — the smallest these sizes can give.
    a_vs_b = cost[("T1", "A", "B")]
    assert a_vs_b["p_exact"] == pytest.approx(0.1)
    assert a_vs_b["cliffs_delta"] == -1  # every A pass cheaper than every B pass
    # so no data of these sizes could reach 0.05: described, not tested, not in Holm's family
    assert a_vs_b["testable"] is False and a_vs_b["p_holm"] is None
    assert cost[("T1", "C", "D")]["cliffs_delta"] == 1
    # A vs C on T1: the paper's 0.827 (normal approximation); exact: U = 5 of 9
    a_vs_c = cost[("T1", "A", "C")]
    assert a_vs_c["u"] == 5 and a_vs_c["p_exact"] == pytest.approx(1.0)
    assert a_vs_c["cliffs_delta"] == pytest.approx(1 / 9)


def test_unrecorded_executor_tokens_are_said_not_priced(report: dict[str, object]) -> None:
    b_cells = [c for c in report["cells"] if c["arm"] == "B"]  # type: ignore[attr-defined]
    assert all(c["unmeasured_roles"] == ["executor"] for c in b_cells)
    assert any("not $0" in note for note in report["notes"])  # type: ignore[attr-defined]


def test_the_t3_frontier_keeps_c_for_want_of_evidence_and_says_why(
    report: dict[str, object],
) -> None:
    """Every arm passed 3 of 3 on T3: no pass rate is told apart from another's, so no arm is
    dominated with the support a frontier claim needs, and the arm whose point is beaten says
    so."""
    points = {
        p["arm"]: p
        for p in report["pareto"]  # type: ignore[attr-defined]
        if (p["task"], p["axes"]) == ("T3", "cost_success")
    }
    c = points["C"]
    assert c["on_frontier"] and c["support_needed"] > 0.99
    assert c["dominated_by"] and max(d["support"] for d in c["dominated_by"]) < 0.9
    assert "stays on the frontier" in c["note"]


def test_the_import_says_what_stopping_at_three_passes_does_to_pass_rates(
    report: dict[str, object],
) -> None:
    (note,) = [n for n in report["notes"] if "sampled until it passed 3 times" in n]  # type: ignore[attr-defined]
    # B on T1 passed 3 of 4: 75% as a fixed-n rate, (3 - 1)/(4 - 1) unbiased under the rule
    assert "B T1: 3/4 = 75% → 67%" in note
