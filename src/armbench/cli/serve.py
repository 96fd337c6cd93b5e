"""`armbench serve-sim`: the sim coder behind the real Anthropic or OpenAI wire format."""

from __future__ import annotations

from typing import Annotated, Literal

import typer

from armbench.cli.app import app, err, fail


@app.command("serve-sim")
def serve_sim(
    api: Annotated[
        Literal["anthropic", "openai"], typer.Option("--api", help="Wire format to speak.")
    ],
    host: Annotated[str, typer.Option("--host", help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, help="Port; 0 picks a free one.")] = 8765,
    pack: Annotated[
        list[str] | None,
        typer.Option("--pack", help="Pack whose tasks the sim recognises (repeatable)."),
    ] = None,
    skill: Annotated[float, typer.Option("--skill", min=0, max=1, help="Default sim skill.")] = 0.9,
    model_skill: Annotated[
        list[str] | None,
        typer.Option("--model-skill", help="NAME=SKILL for a model name (repeatable)."),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seeds every conversation's sim.")] = 0,
    fault: Annotated[
        list[str] | None,
        typer.Option(
            "--fault",
            help="Inject a fault, e.g. status=429,retry_after=2,times=3 | slow=5 | drop | "
            "malformed | cut_off | no_usage, with after=K, times=N (0: always), every=N "
            "(repeatable).",
        ),
    ] = None,
) -> None:
    """Serve the sim coder over HTTP, speaking the real Anthropic or OpenAI wire format.

    Point an SDK (or an external agent) at it: Anthropic `base_url=http://HOST:PORT`, OpenAI
    `base_url=http://HOST:PORT/v1`; any key is accepted. Tasks of PACK are recognised by their
    prompt and solved like the in-process sim does. Faults are injected as configured and can
    be changed at runtime (`POST /_armbench/faults`; statistics at `GET /_armbench/stats`).
    Exit status: 0 stopped with Ctrl-C; 2 a bad flag or pack, or an address it cannot listen on.
    """
    from armbench.serve import SimServer, parse_fault
    from armbench.tasks import TaskFileError, combine, load_pack

    skills: dict[str, float] = {}
    for item in model_skill or []:
        name, sep, value = item.partition("=")
        try:
            skills[name] = float(value)
        except ValueError:
            fail(f"--model-skill {item!r}: expected NAME=SKILL, e.g. weak=0.5")
        if not sep or not name or not 0 <= skills[name] <= 1:
            fail(f"--model-skill {item!r}: expected NAME=SKILL with SKILL in 0..1")
    try:
        rules = [parse_fault(spec) for spec in fault or []]
        loaded = combine([load_pack(name) for name in pack or ["demo", "oneshot"]])
    except (ValueError, TaskFileError) as exc:
        fail(str(exc))
    try:
        server = SimServer(
            api,
            host=host,
            port=port,
            pack=loaded,
            default_skill=skill,
            model_skills=skills,
            seed=seed,
            faults=rules,
        )
    except OSError as exc:
        fail(
            f"--host {host} --port {port}: cannot listen there ({exc.strerror}); choose "
            "another --port (0 picks a free one)"
        )
    base = server.sdk_base_url
    err.print(f"serve-sim ({api} API, SIMULATED) on {base} — Ctrl-C to stop", highlight=False)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        server.stop()
