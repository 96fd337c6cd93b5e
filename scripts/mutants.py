"""Break each guarded contract in turn, in a scratch copy, and show the suite going red.

A test that passes whether or not the code keeps its promise protects nothing. Each mutant below
is one realistic way to break a contract armbench relies on (a judge gate that always passes, a
redaction that is skipped, a missing price that becomes $0, ...). For each, this script copies
the working tree to a scratch folder, checks that the tests guarding the contract pass there,
applies the mutation, runs those tests again and expects them to fail. It exits 1 if any mutant
survives, and 2 if a mutant no longer applies (its code moved or changed: update it here).

Mutants name the code they change by its text, not its file, so they survive files being
moved; they name their tests by file name, wherever under tests/ that file lives.

    python scripts/mutants.py            # every mutant (about six minutes on 2 cores)
    python scripts/mutants.py --list     # what each mutant breaks
    python scripts/mutants.py redact-transcripts scope-gate   # some of them
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Mutant:
    name: str
    contract: str
    old: str
    """Code text that must occur in exactly one file under src/armbench (once, unless `every`)."""
    new: str
    tests: tuple[str, ...]
    """Test files (by name, found anywhere under tests/) that must go red."""
    every: bool = False
    """Replace every occurrence in that file, not just the one."""


MUTANTS = (
    Mutant(
        "protected-gate",
        "a changed or deleted protected file fails the trial",
        "passed=not altered,",
        "passed=True,",
        ("test_guards_judge.py",),
    ),
    Mutant(
        "scope-gate",
        "a change outside the editable paths fails the trial",
        "passed=not outside,",
        "passed=True,",
        ("test_guards_judge.py",),
    ),
    Mutant(
        "suppressions-gate",
        "a new `# type: ignore` / `# noqa` fails the trial",
        "passed=after <= before,",
        "passed=True,",
        ("test_guards_judge.py",),
    ),
    Mutant(
        "harness-files-gate",
        "a new conftest, checker configuration or startup hook fails the trial",
        "passed=not caught,",
        "passed=True,",
        ("test_guards_judge.py", "test_attacks.py"),
    ),
    Mutant(
        "reference-tests",
        "a test the reference passes that is missing or skipped in the trial fails it",
        "    if not lost:\n",
        "    if True:\n",
        ("test_attacks.py",),
    ),
    Mutant(
        "template-verify",
        "a template changed since preparation stops the judge",
        "        if changed:\n            more =",
        "        if False:\n            more =",
        ("test_guards_judge.py",),
    ),
    Mutant(
        "checker-version",
        "the judge refuses checkers of other versions than the pinned ones",
        "    if wrong:\n        fix = ",
        "    if False:\n        fix = ",
        ("test_guards_judge.py",),
    ),
    Mutant(
        "unpinned-checkers",
        "an empty or loose pin list is an error, not a skip",
        "    if unpinned:\n",
        "    if False:\n",
        ("test_guards_judge.py",),
    ),
    Mutant(
        "redact-records",
        "error texts and gate outputs in trial records are redacted",
        "return TrialResult(redacted(record, ctx.redact), transcript)",
        "return TrialResult(record, transcript)",
        ("test_guards_secrets.py",),
    ),
    Mutant(
        "redact-transcripts",
        "transcripts are redacted",
        "ctx.redact(json.dumps(payload, indent=1))",
        "json.dumps(payload, indent=1)",
        ("test_guards_secrets.py",),
        every=True,
    ),
    Mutant(
        "scrubbed-environment",
        "commands inherit only allowlisted variables, never a key",
        "env = {k: source[k] for k in _INHERITED if k in source}",
        "env = dict(source)",
        ("test_env_local.py", "test_e2e.py"),
    ),
    Mutant(
        "missing-kind-price",
        "a token kind without a price is an error, never $0",
        "            if rate is None:\n",
        "            if rate is None:\n                continue\n            if False:\n",
        ("test_ratecard.py",),
    ),
    Mutant(
        "missing-model-price",
        "a model without a price is an error, never $0",
        "        if rates is None:\n",
        "        if rates is None:\n            return 0.0\n        if False:\n",
        ("test_ratecard.py",),
    ),
    Mutant(
        "infra-is-not-fail",
        "a provider failure ends the trial as infra_error, never fail",
        '    if run.stop == "model_error":\n        return "infra_error"',
        '    if run.stop == "model_error":\n        return "fail"',
        ("test_runner.py", "test_providers_e2e.py"),
    ),
    Mutant(
        "every-gate-must-pass",
        "a trial passes only when every gate passes",
        "bool(gates) and all(g.passed for g in gates)",
        "bool(gates) and any(g.passed for g in gates)",
        ("test_e2e.py", "test_runner.py"),
    ),
    Mutant(
        "pytest-min-passed",
        "deleting the failing tests does not make a green build",
        'bad == 0 and c["passed"] >= self.min_passed',
        "bad == 0",
        ("test_checkers.py",),
    ),
    Mutant(
        "editor-confinement",
        "the editor refuses paths outside the workspace",
        "if not real.is_relative_to(self._workdir):",
        "if False:",
        ("test_editor_tools.py",),
    ),
    Mutant(
        "kill-process-group",
        "a command's whole process tree is killed when it ends or times out",
        "    _kill_group(proc.pid)\n    if group is not None:\n        group.close()\n"
        "    else:\n        _kill_marked(token)\n",
        "    pass\n",
        ("test_env_local.py",),
    ),
    Mutant(
        "resume-changed-prompt",
        "a resume refuses a run whose prompts changed since it started",
        "        if changed:\n            raise ConfigError(",
        "        if False:\n            raise ConfigError(",
        ("test_prompts_e2e.py",),
    ),
    Mutant(
        "serve-sim-roles",
        "serve-sim tells a request's role from the prompt registry",
        "        role = self._prompts.role_of(request.system)\n",
        "        role = None\n",
        ("test_serve_brain.py",),
    ),
    Mutant(
        "missing-key",
        "a missing API key is refused before anything runs",
        "    if required and not value:\n",
        "    if False:\n",
        ("test_providers_unit.py",),
    ),
    Mutant(
        "budget-reserved-before",
        "a call reserves its worst case before it is sent, so caps and the budget never overshoot",
        "usd = self._worst_usd(seat, prompt, output) if self.metered else 0.0",
        "usd = 0.0",
        ("test_guard.py",),
    ),
    Mutant(
        "budget-dearest-price",
        "every prompt token is reserved at the dearest input-side price (a cache write too)",
        "top_input = _dearest(rates, INPUT_SIDE, prompt_tokens)",
        'top_input = _dearest(rates, ("input",), prompt_tokens)',
        ("test_worst_case.py",),
    ),
    Mutant(
        "database-schema-check",
        "a run database missing a table or column of the schema is refused, never recreated",
        "    if missing:\n        raise RunDirectoryError(",
        "    if False:\n        raise RunDirectoryError(",
        ("test_store_integrity.py", "test_bad_inputs.py"),
    ),
    Mutant(
        "card-kinds",
        "a rate card prices every token kind its model can produce, or the run is refused",
        "missing = [k for k in PRICED_KINDS if k in m.produces() and getattr(rates, k) is None]",
        "missing: list[str] = []",
        ("test_card_kinds.py", "test_bad_inputs.py"),
    ),
    Mutant(
        "resume-changed-pack",
        "a resume refuses a run whose planned tasks' files changed since it started",
        "        if changed:\n            problems.append(",
        "        if False:\n            problems.append(",
        ("test_resume.py",),
    ),
    Mutant(
        "resume-changed-config-file",
        "a resume refuses a run whose config file no longer gives the recorded config",
        "    if now.canonical_hash() == config.canonical_hash():\n        return []",
        "    if True:\n        return []",
        ("test_resume.py",),
    ),
    Mutant(
        "finished-at-once",
        "a finished run's end is never rewritten by a resume",
        "if manifest.finished_at is None and len(db.trial_ids()) >= manifest.trials_planned:",
        "if len(db.trial_ids()) >= manifest.trials_planned:",
        ("test_resume.py",),
    ),
    Mutant(
        "killed-run-leftovers",
        "what a killed run left running is killed by its watchdog or the next run",
        '    killed = kill_marked(str(data["marker"]).encode(), groups) if same_boot else 0',
        "    killed = 0",
        ("test_leases.py",),
    ),
    Mutant(
        "one-process-per-run",
        "only one process runs a run's trials: a second resume is refused while it does",
        "                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
        "            except BlockingIOError:",
        "                pass\n            except BlockingIOError:",
        ("test_attempts.py",),
    ),
    Mutant(
        "lost-worker-holds-spent",
        "a lost Ray worker's budget reservations count as spent, never returned",
        "            held = [n for n, (o, _) in self._reservations.items() if o == owner]",
        "            held: list[int] = []",
        ("test_backends.py",),
    ),
    Mutant(
        "worker-withdraws-keys",
        "a Ray worker takes the keys out of its environment before it runs a command",
        "        withdraw_secrets(also=self.models.key_variables)\n        started_with",
        "        started_with",
        ("test_ray_e2e.py",),
    ),
    Mutant(
        "retry-keeps-history",
        "a retried trial's earlier attempt is kept in the history, never deleted",
        '            conn.execute(\n                f"INSERT INTO {history}',
        '            continue\n            conn.execute(\n                f"INSERT INTO {history}',
        ("test_attempts.py", "test_resume.py"),
    ),
    Mutant(
        "ruff-never-fixes",
        "the ruff gate never rewrites what it judges, whatever the project's `fix = true`",
        '"--no-cache", "--no-fix"]',
        '"--no-cache"]',
        ("test_checkers.py",),
    ),
    Mutant(
        "per-test-timeout",
        "a test that hangs fails alone, named, after the gate's test_timeout_s",
        'timeout = ("-p", TIMEOUT_MODULE) if self.test_timeout_s is not None else ()',
        "timeout = ()",
        ("test_checkers.py",),
    ),
    Mutant(
        "gateway-admits",
        "an external agent's calls pass the trial's caps and the run's budget before they go",
        "                settle = binding.admit(upstream, body, request)",
        "                settle = None",
        ("test_external_gateway.py",),
    ),
    Mutant(
        "external-infra-not-fail",
        "an external agent whose last call failed is an infra error, never a fail",
        '    elif rows and rows[-1].status == "error":',
        "    elif False:",
        ("test_external_command.py",),
    ),
)


def scratch_copy(dest: Path) -> None:
    """The working tree as git sees it (tracked and untracked files, not ignored ones)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for raw in listed:
        if not raw:
            continue
        rel = raw.decode()
        source = ROOT / rel
        if source.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / rel)


def target_file(tree: Path, mutant: Mutant) -> Path:
    hits = [
        p
        for p in sorted((tree / "src" / "armbench").rglob("*.py"))
        if "packs" not in p.relative_to(tree / "src" / "armbench").parts
        and mutant.old in p.read_text(encoding="utf-8")
    ]
    if len(hits) != 1:
        where = ", ".join(str(p.relative_to(tree)) for p in hits) or "no file"
        raise LookupError(f"{mutant.name}: its code is in {where}, expected exactly one file")
    text = hits[0].read_text(encoding="utf-8")
    if not mutant.every and text.count(mutant.old) != 1:
        raise LookupError(f"{mutant.name}: its code occurs {text.count(mutant.old)} times")
    return hits[0]


def test_files(tree: Path, mutant: Mutant) -> list[str]:
    found = []
    for name in mutant.tests:
        matches = sorted((tree / "tests").rglob(name))
        if len(matches) != 1:
            raise LookupError(f"{mutant.name}: test file {name} found {len(matches)} times")
        found.append(str(matches[0].relative_to(tree)))
    return found


EVERY = ("-m", "heavy or not heavy")
"""Every test of the named files, `heavy` ones too (`make test` leaves those out)."""


def pytest(tree: Path, tests: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree / "src"), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-x",
            "-p",
            "no:cacheprovider",
            "-n",
            "2",
            *EVERY,
            *tests,
        ],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
    )


def failed_tests(output: str) -> list[str]:
    """The test ids of pytest's `FAILED <id> - <reason>` summary lines."""
    return [
        line.split(" ", 1)[1].split(" - ")[0]
        for line in output.splitlines()
        if line.startswith("FAILED ")
    ]


def run_mutant(mutant: Mutant, scratch: Path) -> tuple[str, str]:
    """(verdict, detail): `caught`, `SURVIVED`, or `BROKEN` (it could not be tried)."""
    tree = scratch / mutant.name
    scratch_copy(tree)
    try:
        path = target_file(tree, mutant)
        tests = test_files(tree, mutant)
    except LookupError as exc:
        return "BROKEN", str(exc)
    clean = pytest(tree, tests)
    if clean.returncode != 0:
        return "BROKEN", "its tests fail without the mutation:\n" + clean.stdout[-2000:]
    text = path.read_text(encoding="utf-8")
    count = -1 if mutant.every else 1
    path.write_text(text.replace(mutant.old, mutant.new, count), encoding="utf-8")
    mutated = pytest(tree, tests)
    where = path.relative_to(tree)
    names = failed_tests(mutated.stdout)
    # With -x, xdist reports a stop after the first failure as exit 2 ("Interrupted").
    if mutated.returncode == 1 or (mutated.returncode == 2 and names):
        return "caught", f"{where}: red in " + (", ".join(names) or "its tests")
    if mutated.returncode == 0:
        return "SURVIVED", f"{where}: {' '.join(tests)} still pass"
    return "BROKEN", f"pytest exited {mutated.returncode} (not a test failure):\n" + (
        mutated.stdout[-2000:] + mutated.stderr[-2000:]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="mutants to try (default: all)")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    args = parser.parse_args()
    known = {m.name: m for m in MUTANTS}
    if args.list:
        for m in MUTANTS:
            print(f"{m.name:24} {m.contract}")
        return 0
    unknown = [n for n in args.names if n not in known]
    if unknown:
        print(f"unknown mutants: {', '.join(unknown)} (see --list)", file=sys.stderr)
        return 2
    chosen = [known[n] for n in args.names] if args.names else list(MUTANTS)
    verdicts: list[str] = []
    with tempfile.TemporaryDirectory(prefix="armbench-mutants-") as tmp:
        for mutant in chosen:
            started = time.monotonic()
            verdict, detail = run_mutant(mutant, Path(tmp))
            verdicts.append(verdict)
            took = time.monotonic() - started
            print(f"{verdict:8} {mutant.name:24} ({took:.0f} s) {mutant.contract}", flush=True)
            print(f"         {detail}", flush=True)
            shutil.rmtree(Path(tmp) / mutant.name, ignore_errors=True)
    caught = verdicts.count("caught")
    print(f"\n{caught} of {len(verdicts)} mutants caught")
    if "BROKEN" in verdicts:
        return 2
    return 0 if caught == len(verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
