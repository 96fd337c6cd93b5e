"""Prompts as data: the built-in files load and render the texts armbench has always sent,
every rendering is recognised back as its prompt, and a bad override is refused by name."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from armbench.prompts import (
    AGENT_SYSTEM,
    CONTRACT,
    EXECUTOR_SYSTEM,
    ORCHESTRATOR_SYSTEM,
    ROUTER_SYSTEM,
    PromptError,
    PromptSet,
    builtin_prompts,
    load_prompt_file,
    override,
)

PROMPTS = PromptSet()

# sha256 of each text as it was sent when it was a Python constant, before prompts became data
# (recorded from that code): rewording a built-in prompt changes what every experiment measures,
# so it must be a deliberate change that updates these values.
GOLDEN = {
    (AGENT_SYSTEM, ()): "e3d79ca177aa38d4a86d2d7efd8405bf0238f7e0b01e556f310bfa1a1fec153d",
    (ORCHESTRATOR_SYSTEM, (("may_edit", True),)): (
        "700b86e60916868a3c64d673fa7c157b5029cd4f3c8852c0ce49d922af37d4b4"
    ),
    (ORCHESTRATOR_SYSTEM, (("may_edit", False),)): (
        "f9b01d4e58de62ea8fb57cbe84bbe5fd53ebc3fe0ca0b94d385efcc540e8cfc5"
    ),
    (EXECUTOR_SYSTEM, ()): "e8f4fb99a371a65639d09acad76b632afa0336786107919e35e89519a0156f77",
    (ROUTER_SYSTEM, ()): "d9fb1d266abd666befb6eba0f95c8ed8896b2a994fd6d32fdf41976476cb04ee",
}


@pytest.mark.parametrize(("key", "digest"), GOLDEN.items(), ids=lambda v: str(v)[:40])
def test_built_in_prompts_render_the_texts_armbench_always_sent(
    key: tuple[str, tuple[tuple[str, bool], ...]], digest: str
) -> None:
    prompt_id, values = key
    text = PROMPTS.render(prompt_id, **dict(values))
    assert hashlib.sha256(text.encode()).hexdigest() == digest


def test_every_rendering_is_recognised_as_its_prompt_and_role() -> None:
    renderings = {
        AGENT_SYSTEM: (PROMPTS.render(AGENT_SYSTEM), "solo"),
        EXECUTOR_SYSTEM: (PROMPTS.render(EXECUTOR_SYSTEM), "executor"),
        ROUTER_SYSTEM: (PROMPTS.render(ROUTER_SYSTEM), "router"),
        CONTRACT: (
            PROMPTS.render(CONTRACT, prompt="Write x.py, any text.", files=["x.py", "y/z.json"]),
            "single_shot",
        ),
    }
    for may_edit in (True, False):
        text = PROMPTS.render(ORCHESTRATOR_SYSTEM, may_edit=may_edit)
        assert PROMPTS.role_of(text) == "orchestrator"
    for prompt_id, (text, role) in renderings.items():
        found = PROMPTS.identify(text)
        assert found is not None and found.id == prompt_id
        assert PROMPTS.role_of(text) == role
    assert PROMPTS.identify(PROMPTS.render(AGENT_SYSTEM) + " And be brief.") is None
    assert PROMPTS.identify("Write x.py.") is None


def test_an_override_is_recognised_in_place_of_the_prompt_it_replaces() -> None:
    never_edit = override(
        ORCHESTRATOR_SYSTEM,
        "Never edit a file yourself{% if not may_edit %}, ever{% endif %}.",
        source="arms.B.prompts.orchestrator.system",
    )
    arm = PromptSet([never_edit])
    text = arm.render(ORCHESTRATOR_SYSTEM, may_edit=False)
    assert text == "Never edit a file yourself, ever."
    assert arm.role_of(text) == "orchestrator"
    assert PROMPTS.role_of(text) is None  # the built-in set does not know it
    assert arm[ORCHESTRATOR_SYSTEM].source == "arms.B.prompts.orchestrator.system"
    assert arm[ORCHESTRATOR_SYSTEM].sha256 != PROMPTS[ORCHESTRATOR_SYSTEM].sha256


def test_an_override_using_a_variable_its_prompt_lacks_is_refused() -> None:
    with pytest.raises(PromptError, match=r"arms\.B\.prompts\.executor\.system: .*may_edit"):
        override(EXECUTOR_SYSTEM, "{{ may_edit }}", source="arms.B.prompts.executor.system")


def test_an_override_that_is_not_jinja_is_refused_with_its_line() -> None:
    with pytest.raises(PromptError, match=r"where: line 2: "):
        override(AGENT_SYSTEM, "fine\n{% if %}", source="where")


def test_an_unknown_prompt_id_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(PromptError, match=r"agent\.system"):
        override("agent.sistem", "text", source="arms.A.prompts.agent.sistem")


def test_rendering_with_the_wrong_values_is_an_error() -> None:
    with pytest.raises(PromptError, match="may_edit"):
        PROMPTS.render(ORCHESTRATOR_SYSTEM)
    with pytest.raises(PromptError, match="extra"):
        PROMPTS.render(AGENT_SYSTEM, extra=1)


def test_every_built_in_file_is_named_for_its_id(tmp_path: Path) -> None:
    assert set(builtin_prompts()) == {
        AGENT_SYSTEM,
        ORCHESTRATOR_SYSTEM,
        EXECUTOR_SYSTEM,
        ROUTER_SYSTEM,
        CONTRACT,
    }
    misnamed = tmp_path / "other.yaml"
    misnamed.write_text("id: thing\nrole: solo\ndescription: d\ntemplate: t\n")
    with pytest.raises(PromptError, match="must match the file name"):
        load_prompt_file(misnamed)
    bad_role = tmp_path / "thing.yaml"
    bad_role.write_text("id: thing\nrole: boss\ndescription: d\ntemplate: t\n")
    with pytest.raises(PromptError, match="role"):
        load_prompt_file(bad_role)


def test_a_prompt_set_pickles_after_it_has_rendered_and_matched() -> None:
    """Backend workers receive prompts by pickle, often after the driver has rendered them (a
    compiled jinja2 Template does not pickle): the copy renders and recognises the same texts."""
    import pickle

    prompts = PromptSet()
    text = prompts.render(ORCHESTRATOR_SYSTEM, may_edit=True)
    assert prompts.role_of(text) == "orchestrator"
    copy = pickle.loads(pickle.dumps(prompts))
    assert copy.render(ORCHESTRATOR_SYSTEM, may_edit=True) == text
    assert copy.role_of(text) == "orchestrator"
