"""armbench's pytest guard: loaded into the judge's pytest run before any code under test.

The code under test runs inside the pytest process that judges it, so it could rewrite pytest's
verdicts from the inside. This plugin (`-p armbench_pytest_guard`, imported before conftest
files and test modules) makes the usual ways of doing so visible to the judge:

- an audit hook (which cannot be removed once added) sees `exec` and `compile` called from
  workspace files, and the writes to pytest's classes and to functions' code that Python audits
  (special attributes such as `__code__` and `__bases__`), and says which workspace file made
  them;
- a snapshot of pytest's reporting machinery, taken now, is compared with what is there when
  the session ends: a replaced class, method or function is named, with where its new code
  came from (a workspace file, or code compiled at run time by exec in a workspace file);
- every test's outcome is written, as it happens, to a report of the guard's own
  (`ARMBENCH_GUARD_REPORT`, each line carrying a nonce the judge chose), and a last line says
  the session finished: a run that ends early (`os._exit`) has no last line, and a JUnit report
  forged by the code disagrees with what the guard saw.

This narrows what code under test can do to its verdict; it does not make it impossible (that
code shares the process, and enough of it could find the nonce): the README says so. The plugin
uses only the standard library and pytest, because it runs with the project's interpreter.
"""

from __future__ import annotations

import json
import os
import sys
import types
from typing import Any

_GUARDED = ("_pytest", "pytest", "pluggy")
_WATCHED_MODULES = (
    "_pytest.reports",
    "_pytest.runner",
    "_pytest.junitxml",
    "_pytest.main",
    "_pytest.skipping",
    "_pytest.terminal",
    "_pytest.python",
    "_pytest.outcomes",
    "pluggy._callers",
    "pluggy._hooks",
    "pluggy._manager",
)


def _start() -> dict[str, Any]:
    """Everything the guard keeps, in one closure-held dict (not module globals)."""
    path = os.environ.pop("ARMBENCH_GUARD_REPORT", "")
    nonce = os.environ.pop("ARMBENCH_GUARD_NONCE", "")
    root = os.path.realpath(os.getcwd()) + os.sep
    stream = open(path, "a", encoding="utf-8", buffering=1) if path else None  # noqa: SIM115
    return {
        "stream": stream,
        "nonce": nonce,
        "root": root,
        "findings": [],
        "snapshot": {},
        "executes": set(),
    }


_STATE = _start()


def _emit(record: dict[str, Any]) -> None:
    stream = _STATE["stream"]
    if stream is not None:
        stream.write(json.dumps({**record, "nonce": _STATE["nonce"]}) + "\n")
        stream.flush()


def _workspace_file(frame: types.FrameType | None) -> str | None:
    """The first workspace file on the stack, relative to the workspace (None when only
    pytest, the standard library or the toolchain is on it)."""
    here = os.path.realpath(__file__)
    root = _STATE["root"]
    while frame is not None:
        filename = frame.f_code.co_filename
        # Frozen and generated code (`<frozen ...>`, `<string>`) has no file of its own.
        name = os.path.realpath(filename) if os.path.isabs(filename) else ""
        if name and name != here and name.startswith(root) and "site-packages" not in name:
            return name[len(root) :]
        frame = frame.f_back
    return None


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event in ("exec", "compile"):
        # Only the direct caller: pytest's own imports and rewrites exec from importlib.
        filename = sys._getframe(1).f_code.co_filename
        if os.path.isabs(filename) and "site-packages" not in filename:
            name = os.path.realpath(filename)
            if name.startswith(_STATE["root"]) and name != os.path.realpath(__file__):
                _STATE["executes"].add(name[len(_STATE["root"]) :])
        return
    if event not in ("object.__setattr__", "object.__delattr__"):
        return
    target, attribute = args[0], args[1]
    # A class of pytest's, or the code of one of its functions. (Other functions' code is
    # rewritten legitimately: `types.coroutine` does it to asyncio's own on import.)
    owned = str(getattr(target, "__module__", "")).split(".")[0] in _GUARDED
    guarded = isinstance(target, type) or (
        isinstance(target, types.FunctionType) and attribute == "__code__"
    )
    if not (owned and guarded):
        return
    where = _workspace_file(sys._getframe(1))
    if where is not None:
        name = getattr(target, "__qualname__", repr(target))
        _STATE["findings"].append(
            {"rule": "pytest_patched", "file": where, "detail": f"{name}.{attribute}"}
        )


def _relative(filename: str) -> str:
    return os.path.realpath(filename)[len(_STATE["root"]) :]


def _take_snapshot() -> dict[str, tuple[int, Any]]:
    """Each class, method and function of pytest's reporting machinery, under the module that
    defines it: its identity, and the object (to say later where a replacement came from)."""
    found: dict[str, tuple[int, Any]] = {}
    for module_name in _WATCHED_MODULES:
        module = sys.modules.get(module_name)
        if module is None:
            continue
        for name, value in list(vars(module).items()):
            if not isinstance(value, (type, types.FunctionType)):
                continue
            if getattr(value, "__module__", None) != module_name:
                continue  # imported from elsewhere: watched where it is defined
            found[f"{module_name}.{name}"] = (id(value), value)
            if isinstance(value, type):
                for attr, member in list(vars(value).items()):
                    found[f"{module_name}.{name}.{attr}"] = (id(member), member)
    return found


def _origin(value: Any) -> str:
    """Where a replacement's code comes from, as far as can be told."""
    code = getattr(getattr(value, "__func__", value), "__code__", None)
    if code is None:
        return ""
    filename = code.co_filename
    if os.path.isabs(filename) and os.path.realpath(filename).startswith(_STATE["root"]):
        return f" (now code from {_relative(filename)})"
    if not os.path.isabs(filename):
        by = ", ".join(sorted(_STATE["executes"])) or "an unknown file"
        return f" (now code compiled at run time, by exec or compile in {by})"
    return ""


def _changed(before: dict[str, tuple[int, Any]]) -> list[str]:
    after = _take_snapshot()
    changed = []
    for name, (identity, _value) in sorted(before.items()):
        now = after.get(name)
        if now is None:
            changed.append(f"{name} (removed)")
        elif now[0] != identity:
            changed.append(name + _origin(now[1]))
    return changed


def _code_file(obj: Any) -> str:
    """The source file an object's code comes from ("" when none can be told)."""
    function = getattr(obj, "__func__", obj)
    code = getattr(function, "__code__", None)
    if code is not None:
        return str(code.co_filename)
    kind = obj if isinstance(obj, type) else type(obj)
    module = sys.modules.get(getattr(kind, "__module__", "") or "")
    return str(getattr(module, "__file__", "") or "")


def _untrusted(filename: str) -> str | None:
    """Why code from `filename` may not hook into pytest: compiled at run time, or a workspace
    file other than a conftest (whose changes the harness-files gate judges). None if it may."""
    if not filename or not os.path.isabs(filename):
        return f"code compiled at run time ({filename or 'no file'})"
    name = os.path.realpath(filename)
    if name.startswith(_STATE["root"]) and os.path.basename(name) != "conftest.py":
        return name[len(_STATE["root"]) :]
    return None


def _hook_findings(plugin_manager: Any) -> list[dict[str, str]]:
    """Hook implementations, import hooks and a hook executor that the code under test added
    or replaced since the session was configured."""
    found = []
    for hook_name, caller in sorted(vars(plugin_manager.hook).items()):
        for impl in getattr(caller, "get_hookimpls", list)():
            why = _untrusted(_code_file(impl.function))
            if why is not None:
                detail = f"{hook_name} implemented by {why}"
                found.append({"rule": "pytest_hooked", "file": why, "detail": detail})
    if id(getattr(plugin_manager, "_inner_hookexec", None)) != _STATE["hookexec"]:
        found.append(
            {"rule": "pytest_hooked", "file": "", "detail": "the hook executor was replaced"}
        )
    for hooks, before in (
        (sys.meta_path, _STATE["meta_path"]),
        (sys.path_hooks, _STATE["path_hooks"]),
    ):
        for hook in hooks:
            if id(hook) not in before and (why := _untrusted(_code_file(hook))) is not None:
                found.append({"rule": "import_hooked", "file": why, "detail": repr(hook)[:80]})
    return found


sys.addaudithook(_audit)


def pytest_configure(config: Any) -> None:
    _STATE["snapshot"] = _take_snapshot()
    _STATE["plugin_manager"] = config.pluginmanager
    _STATE["hookexec"] = id(getattr(config.pluginmanager, "_inner_hookexec", None))
    _STATE["meta_path"] = {id(hook) for hook in sys.meta_path}
    _STATE["path_hooks"] = {id(hook) for hook in sys.path_hooks}
    _emit({"event": "started"})


def pytest_plugin_registered(plugin: Any) -> None:
    """A plugin registered once the session runs (from the code under test, say) is judged
    now, in case it unregisters itself before the session ends."""
    if "plugin_manager" not in _STATE:
        return  # registered while pytest configures itself: the -p plugins and builtins
    for name in dir(plugin):
        if name.startswith("pytest_"):
            why = _untrusted(_code_file(getattr(plugin, name, None)))
            if why is not None:
                detail = f"{name} registered by {why}"
                _STATE["findings"].append({"rule": "pytest_hooked", "file": why, "detail": detail})


def pytest_runtest_logreport(report: Any) -> None:
    _emit(
        {
            "event": "report",
            "nodeid": report.nodeid,
            "when": report.when,
            "outcome": report.outcome,
        }
    )


def pytest_collectreport(report: Any) -> None:
    if report.failed:
        _emit({"event": "collect_error", "nodeid": report.nodeid})


def pytest_deselected(items: Any) -> None:
    _emit({"event": "deselected", "nodeids": [item.nodeid for item in items]})


def pytest_sessionfinish(session: Any, exitstatus: Any) -> None:
    changed = _changed(_STATE["snapshot"])
    findings = list(_STATE["findings"]) + _hook_findings(session.config.pluginmanager)
    findings += [{"rule": "pytest_replaced", "file": "", "detail": name} for name in changed]
    _emit({"event": "finished", "exitstatus": int(exitstatus), "findings": findings})
