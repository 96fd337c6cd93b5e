"""`armbench serve-sim`: the sim coder behind the real Anthropic or OpenAI wire format; and
`armbench gateway`: the metering gateway, for an agent run outside armbench."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from armbench.cli.app import app, err, fail, out


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


@app.command("gateway")
def gateway(
    api: Annotated[
        Literal["anthropic", "openai"],
        typer.Option("--api", help="Wire format the agent speaks (and the upstream)."),
    ],
    upstream: Annotated[
        str,
        typer.Option(
            "--upstream",
            help="The real API's base URL as its SDK takes it, e.g. https://api.anthropic.com "
            "or https://api.openai.com/v1 (or serve-sim's).",
        ),
    ],
    ledger: Annotated[
        Path, typer.Option("--ledger", help="JSON Lines file each call is appended to.")
    ],
    key_env: Annotated[
        str | None,
        typer.Option("--key-env", help="Variable holding the real key (none for a local server)."),
    ] = None,
    price_as: Annotated[
        str | None,
        typer.Option("--price-as", help="PROVIDER/MODEL the rows bill as (a rate card's key)."),
    ] = None,
    host: Annotated[str, typer.Option("--host", help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, help="Port; 0 picks a free one.")] = 8780,
) -> None:
    """Meter an agent you run yourself: a loopback gateway that forwards its calls to the
    upstream and appends each to LEDGER with the six token kinds, latency and status.

    Prints the base URL and a key to give the agent (`OPENAI_BASE_URL`/`OPENAI_API_KEY`, or
    `ANTHROPIC_BASE_URL`/`ANTHROPIC_API_KEY`); the real key stays in `--key-env` and never
    reaches the agent; any other key is refused. `armbench run` does this by itself for its
    `external` arms. Exit status: 0 stopped with Ctrl-C; 2 a bad flag, an unset key variable,
    an unwritable ledger, or an address it cannot listen on.
    """
    import dataclasses
    import json
    import signal
    import threading

    from armbench.core import process_environ
    from armbench.serve import Gateway, GatewayCall, Upstream

    if key_env and not process_environ().get(key_env):
        fail(f"--key-env {key_env}: the variable is not set")
    price: tuple[str, str] | None = None
    if price_as is not None:
        provider, sep, model = price_as.partition("/")
        if not sep or not provider or not model:
            fail(f"--price-as {price_as!r}: expected PROVIDER/MODEL, e.g. openai/gpt-5")
        price = (provider, model)
    try:
        target = Upstream(api, upstream, key_env, price_as=price)
    except ValueError as exc:
        fail(f"--upstream: {exc}")
    try:
        sink = ledger.open("a", encoding="utf-8")
    except OSError as exc:
        fail(f"--ledger {ledger}: cannot write there ({exc.strerror})")
    lock = threading.Lock()

    def write(call: GatewayCall) -> None:
        row = {
            **dataclasses.asdict(call.record),
            "endpoint": call.endpoint,
            "http_status": call.http_status,
            "streamed": call.streamed,
        }
        row["usage"] = call.record.usage.model_dump()
        with lock:
            sink.write(json.dumps(row) + "\n")
            sink.flush()

    try:
        server = Gateway(host=host, port=port, on_call=write)
    except OSError as exc:
        fail(
            f"--host {host} --port {port}: cannot listen there ({exc.strerror}); choose "
            "another --port (0 picks a free one)"
        )
    key = server.issue("gateway", "solo", target)
    # Ctrl-C or SIGTERM only sets a flag: an interrupt raised wherever the main thread happens
    # to be (printing the ready lines, say) could skip the orderly stop below.
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    server.start()
    try:
        out.print(f"base_url {server.sdk_base_url(api)}\nkey {key}", highlight=False)
        out.file.flush()  # whoever started it reads these two lines before anything else comes
        err.print(f"gateway → {upstream}; calls to {ledger} — Ctrl-C to stop", highlight=False)
        while not stopping.wait(0.2):
            pass
    finally:
        server.stop()
        sink.close()
