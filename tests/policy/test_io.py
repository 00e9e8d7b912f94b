"""Policies as data: load from dicts and files, dump back exactly, and refuse broken ones well."""

from __future__ import annotations

import json
import os
import tomllib

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hirepipe import (
    Blocker,
    GuardSpec,
    Policy,
    PolicyError,
    Registry,
    standard_policy,
    standard_registry,
)
from hirepipe.policy._io import MAX_FILE_BYTES
from tests.bounded import run_bounded

STANDARD = standard_policy()


HOSTILE_TEXT = st.text(
    st.characters(codec="utf-8")
    | st.sampled_from(["\n", "\r", '"', "'", "\\", "\x7f", "$", "#", "=", "[", "]", ".", "\t"]),
    min_size=1,
    max_size=10,
)
"""Text a hostile policy file may hold: control characters, quotes, DEL, '$', any Unicode."""

HOSTILE_NAME = HOSTILE_TEXT.map(
    lambda text: "".join(c for c in text if c.isprintable()).strip(" ") or "x"
)
"""A hostile name a policy still accepts: quotes, '$', '#', '=', brackets, any printable Unicode.

Stage, event and reason names and the label follow the identifier rules (no control
characters, no spaces at either end); descriptions may hold anything.
"""


def renamed(document, *, to, stage=None, event=None):
    """Return ``document`` with one stage or event renamed everywhere it is named."""
    old = stage if stage is not None else event
    swap = lambda name: to if name == old else name  # noqa: E731
    document = json.loads(json.dumps(document))
    if stage is not None:
        document["initial"] = swap(document["initial"])
        for spec in document["stages"]:
            spec["name"] = swap(spec["name"])
        for spec in document["events"]:
            spec["sources"] = [swap(s) for s in spec["sources"]]
            if "dest" in spec:
                spec["dest"] = swap(spec["dest"])
        for rule in document["notifications"]:
            rule["stages"] = [swap(s) for s in rule["stages"]]
    else:
        for spec in document["events"]:
            spec["name"] = swap(spec["name"])
        for rule in document["notifications"]:
            rule["events"] = [swap(e) for e in rule["events"]]
    return document


def problems(document, **kwargs) -> list[str]:
    """The problems PolicyError lists for ``document``."""
    with pytest.raises(PolicyError) as caught:
        Policy.from_dict(document, **kwargs)
    return [str(p) for p in caught.value.problems]


def tiny(**overrides):
    document = {
        "name": "tiny",
        "version": "1",
        "initial": "a",
        "stages": [{"name": "a"}, {"name": "done", "kind": "terminal"}],
        "events": [{"name": "finish", "sources": ["a"], "dest": "done"}],
    }
    document.update(overrides)
    return document


class TestRoundTrips:
    def test_dict_round_trip_is_exact(self):
        """from_dict(to_dict()) gives back an equal policy and the very same document."""
        document = STANDARD.to_dict()
        again = Policy.from_dict(document)
        assert STANDARD == again
        assert document == again.to_dict()

    @pytest.mark.parametrize("suffix", [".toml", ".json", ".yaml", ".yml"], ids=str)
    def test_file_round_trip(self, tmp_path, suffix):
        """The standard policy written as TOML, JSON or YAML loads back equal."""
        document = STANDARD.to_dict()
        text = {
            ".toml": STANDARD.to_toml(),
            ".json": json.dumps(document),
            ".yaml": yaml.safe_dump(document),
            ".yml": yaml.safe_dump(document),
        }[suffix]
        path = tmp_path / f"policy{suffix}"
        path.write_text(text, encoding="utf-8")
        assert STANDARD == Policy.from_file(path)

    def test_toml_is_readable(self):
        """The TOML dump is plain TOML with stages and events as arrays of tables."""
        text = STANDARD.to_toml()
        assert text.startswith('name = "standard"\nversion = "1"\n')
        assert "[[stages]]" in text
        assert "[[events]]" in text
        assert STANDARD.to_dict() == tomllib.loads(text)

    def test_custom_guard_round_trips_through_its_registry(self):
        """A policy with a company guard rebuilds from its document with policy.registry()."""

        def assessment_passed(ctx):
            """The take-home assessment passed."""
            yield from ()

        custom = STANDARD.with_guard("request_approval", assessment_passed)
        again = Policy.from_dict(custom.to_dict(), registry=custom.registry())
        assert custom == again
        assert custom != STANDARD
        assert ["requisition_open", "debrief_recommends_hire", "assessment_passed"] == [
            g.name for g in again.events["request_approval"].guards
        ]


class TestValidation:
    """Each rule has its exact message, with where the problem is."""

    @pytest.mark.parametrize(
        ("document", "expected"),
        [
            (
                tiny(stages=[{"name": "a"}, {"name": "a"}, {"name": "done", "kind": "terminal"}]),
                ["<dict>: stages: 'a' is defined twice; rename one"],
            ),
            (
                tiny(events=[{"name": "finish", "sources": ["ghost"], "dest": "done"}]),
                ["<dict>: events.finish.sources: unknown stage 'ghost'; define it first"],
            ),
            (
                tiny(
                    stages=[{"name": "a"}, {"name": "b"}],
                    events=[
                        {"name": "go", "sources": ["a"], "dest": "b"},
                        {"name": "back", "sources": ["b"], "dest": "a"},
                    ],
                ),
                ["<dict>: stages: no terminal stage: add one (e.g. 'rejected')"],
            ),
            (
                tiny(
                    stages=[
                        {"name": "a"},
                        {"name": "island"},
                        {"name": "done", "kind": "terminal"},
                    ],
                    events=[
                        {"name": "finish", "sources": ["a"], "dest": "done"},
                        {"name": "stay", "sources": ["island"], "dest": "done"},
                    ],
                ),
                ["<dict>: stages.island: unreachable from 'a': add an event that leads to it"],
            ),
            (
                tiny(
                    events=[
                        {"name": "finish", "sources": ["a"], "dest": "done", "guards": ["nope"]},
                    ]
                ),
                [
                    "<dict>: events.finish.guards: no guard named 'nope'; register it "
                    "(Registry.add_guard) or allow its package (Registry(allow_imports=...))"
                ],
            ),
            (
                tiny(
                    events=[
                        {"name": "finish", "sources": ["a"], "dest": "done", "effect": "nope"},
                    ]
                ),
                [
                    "<dict>: events.finish.effect: no effect named 'nope'; register it "
                    "(Registry.add_effect)"
                ],
            ),
            (
                tiny(settings={"max_rounds": "three"}),
                ["<dict>: settings.max_rounds: Input should be a valid integer"],
            ),
            (
                tiny(settings={"max_round": 3}),
                ["<dict>: settings.max_round: unknown key; remove it or check its spelling"],
            ),
            (
                tiny(version=2),
                ["<dict>: version: Input should be a valid string"],
            ),
            (
                {"name": "x"},
                [
                    "<dict>: version: required key missing; add it",
                    "<dict>: initial: required key missing; add it",
                    "<dict>: stages: required key missing; add it",
                    "<dict>: events: required key missing; add it",
                ],
            ),
            (
                tiny(notifications=[{"name": "n", "template": "t", "to": "candidate"}]),
                [
                    "<dict>: notifications.n: the rule never fires: give events, stages or a "
                    "deadline"
                ],
            ),
            (
                tiny(
                    notifications=[
                        {"name": "n", "template": "t", "to": "candidate", "events": ["ghost"]}
                    ]
                ),
                ["<dict>: notifications.n.events: unknown event 'ghost'"],
            ),
            (
                tiny(rejection_reasons={"vibes": "nobody"}),
                ["<dict>: rejection_reasons.vibes: Input should be 'company' or 'candidate'"],
            ),
            (["not", "a", "table"], ["<dict>: a policy is a table of keys, not list"]),
        ],
        ids=[
            "duplicate-stage",
            "unknown-source",
            "no-terminal",
            "unreachable",
            "unknown-guard",
            "unknown-effect",
            "setting-type",
            "setting-unknown",
            "version-type",
            "missing-keys",
            "rule-never-fires",
            "rule-unknown-event",
            "rejection-side",
            "not-a-table",
        ],
    )
    def test_problem_messages(self, document, expected):
        """Each broken document reports exactly its problems."""
        assert expected == problems(document)

    def test_every_problem_at_once(self):
        """Unknown guards, bad settings and graph problems come in one error."""
        document = tiny(
            settings={"max_rounds": 0},
            events=[{"name": "finish", "sources": ["a"], "dest": "done", "guards": ["g1", "g2"]}],
            initial="nowhere",
        )
        assert 4 == len(problems(document))

    def test_dotted_path_needs_an_allowed_package(self):
        """A guard named by dotted path resolves only from an allowed package."""
        document = tiny(
            events=[
                {
                    "name": "finish",
                    "sources": ["a"],
                    "dest": "done",
                    "guards": ["tests.policies:always_passes"],
                },
            ]
        )
        assert 1 == len(problems(document))
        allowed = standard_registry().merged(Registry(allow_imports=["tests"]))
        policy = Policy.from_dict(document, registry=allowed)
        assert ["tests.policies:always_passes"] == [g.name for g in policy.events["finish"].guards]

    @pytest.mark.parametrize(
        ("name", "content", "message"),
        [
            ("p.toml", b"name = [", "not valid TOML"),
            ("p.json", b"{", "not valid JSON"),
            ("p.yaml", b"a: [", "not valid YAML"),
            ("p.txt", b"", "unknown file type '.txt'"),
            ("p.toml", b"\xff\xfe", "not UTF-8 text"),
            ("p.json", b"[" * 100_000, "nested too deeply"),
        ],
        ids=["toml", "json", "yaml", "suffix", "encoding", "deep"],
    )
    def test_file_problems(self, tmp_path, name, content, message):
        """Unreadable files are PolicyErrors that name the file."""
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(PolicyError) as caught:
            Policy.from_file(path)
        (problem,) = caught.value.problems
        assert str(path) == problem.where
        assert message in problem.message

    def test_missing_and_huge_files(self, tmp_path):
        """A missing file and a file over the size limit are refused clearly."""
        with pytest.raises(PolicyError, match="cannot read the file"):
            Policy.from_file(tmp_path / "absent.toml")
        huge = tmp_path / "huge.toml"
        huge.write_bytes(b"#" * (MAX_FILE_BYTES + 1))
        with pytest.raises(PolicyError, match="too large for a policy"):
            Policy.from_file(huge)


class TestRegistry:
    def test_decorator_registers_with_docstring(self):
        """@registry.guard() registers a function under its name, described by its docstring."""
        registry = Registry()

        @registry.guard(checks="review")
        def slate_reviewed(ctx):
            """The whole slate was compared."""
            yield Blocker("x", "y")

        spec = registry.resolve_guard("slate_reviewed")
        assert ("slate_reviewed", "The whole slate was compared.", "review") == (
            spec.name,
            spec.description,
            spec.checks,
        )

    def test_taken_name_refused(self):
        """Two different guards cannot share a name."""
        registry = standard_registry()
        with pytest.raises(ValueError, match="already registered"):
            registry.add_guard(GuardSpec("reason_given", lambda ctx: ()))

    def test_lambda_needs_a_name(self):
        """A lambda cannot be written into a policy without a name."""
        with pytest.raises(ValueError, match="name the guard"):
            Registry().add_guard(lambda ctx: ())
        with pytest.raises(ValueError, match="name the effect"):
            Registry().add_effect(lambda ctx: ())

    def test_effects_register_untrusted(self):
        """Effects registered by a company are validated by the engine."""
        registry = Registry()

        @registry.effect()
        def stamp(ctx):
            raise NotImplementedError

        assert registry.resolve_effect("stamp").trusted is False
        assert "Registry(0 guards, 1 effects)" == repr(registry)
        assert registry.resolve_effect("missing") is None
        assert registry.resolve_guard("missing:thing") is None


documents = st.deferred(
    lambda: (
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats()
        | st.text(max_size=20)
        | st.lists(documents, max_size=4)
        | st.dictionaries(st.text(max_size=12), documents, max_size=5)
    )
)


def mutations():
    """Broken variants of the standard document: keys dropped, values replaced, names mangled."""
    document = STANDARD.to_dict()
    keys = sorted(document)
    return st.one_of(
        documents,
        st.builds(lambda k: {x: v for x, v in document.items() if x != k}, st.sampled_from(keys)),
        st.builds(lambda k, v: {**document, k: v}, st.sampled_from(keys), documents),
        st.builds(
            lambda i, field, v: {
                **document,
                "events": [
                    {**e, field: v} if n == i else e for n, e in enumerate(document["events"])
                ],
            },
            st.integers(0, len(document["events"]) - 1),
            st.sampled_from(["name", "sources", "dest", "guards", "effect", "retarget", "x"]),
            documents,
        ),
        st.builds(
            lambda i, name: {
                **document,
                "stages": [
                    {**s, "name": name} if n == i else s for n, s in enumerate(document["stages"])
                ],
            },
            st.integers(0, len(document["stages"]) - 1),
            st.text(max_size=8),
        ),
    )


@pytest.mark.slow
class TestFuzz:
    @settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(mutations())
    def test_broken_documents_raise_policy_error_only(self, document):
        """Whatever the document, loading gives a policy or a PolicyError, nothing else."""
        try:
            Policy.from_dict(document)
        except PolicyError as error:
            problems = error.problems
        else:
            problems = ("loaded",)
        assert problems

    @settings(max_examples=300, deadline=None)
    @given(st.binary(max_size=300), st.sampled_from([".toml", ".json", ".yaml"]))
    def test_broken_files_raise_policy_error_only(self, tmp_path_factory, content, suffix):
        """Truncated or random bytes in any format give a PolicyError, nothing else."""
        path = tmp_path_factory.mktemp("fuzz") / f"p{suffix}"
        path.write_bytes(content)
        with pytest.raises(PolicyError):
            Policy.from_file(path)

    @settings(max_examples=200, deadline=None)
    @given(st.integers(1, len(STANDARD.to_toml()) - 1))
    def test_truncated_standard_toml(self, tmp_path_factory, cut):
        """The standard policy's TOML cut anywhere loads or fails with a PolicyError."""
        path = tmp_path_factory.mktemp("cut") / "p.toml"
        path.write_text(STANDARD.to_toml()[:cut], encoding="utf-8")
        try:
            Policy.from_file(path)
        except PolicyError as error:
            problems = error.problems
        else:
            problems = ("loaded",)
        assert problems


class TestDottedPaths:
    def test_effects_and_guards_by_dotted_path(self):
        """Allowed packages resolve guards and effects, given as specs or plain functions."""
        registry = Registry(allow_imports=["tests.policies"])
        assert "tests.policies:STAMP" == registry.resolve_effect("tests.policies:STAMP").name
        plain = registry.resolve_effect("tests.policies:stamp")
        assert ("tests.policies:stamp", False) == (plain.name, plain.trusted)
        assert registry.resolve_guard("tests.policies:always_passes") is not None

    @pytest.mark.parametrize(
        "name",
        [
            "tests.policies:missing",
            "tests.nowhere:thing",
            "elsewhere.module:thing",
            "tests.policies:",
        ],
        ids=["missing-attribute", "missing-module", "not-allowed", "no-attribute"],
    )
    def test_unresolvable_paths(self, name):
        """Paths outside the allowed packages, or to nothing, resolve to nothing."""
        registry = Registry(allow_imports=["tests"])
        assert (None, None) == (registry.resolve_guard(name), registry.resolve_effect(name))


def test_rules_round_trip():
    """Notification rules survive the TOML round trip."""
    from hirepipe import NotificationRule

    policy = STANDARD.with_notifications(
        NotificationRule("nudge", "nudge", "candidate", deadline="candidate_update", delay_days=1),
        NotificationRule("thanks", "thanks", "candidate", events=("start_debrief",)),
    )
    assert policy == Policy.from_dict(tomllib.loads(policy.to_toml()))


class TestFileLimits:
    """A policy file is a page of regular text: nothing is read that could have no end."""

    @pytest.mark.parametrize(
        ("setup", "message"),
        [
            ("path = '/dev/zero'", "unknown file type ''"),
            ("path = tmp / 'zero.toml'; path.symlink_to('/dev/zero')", "not a regular file"),
            ("path = tmp / 'pipe.toml'; os.mkfifo(path)", "not a regular file"),
            ("path = tmp / 'folder.toml'; path.mkdir()", "not a regular file"),
        ],
        ids=["dev-zero", "symlink-to-dev-zero", "fifo", "directory"],
    )
    def test_only_regular_files_are_read(self, tmp_path, setup, message):
        """Devices, pipes and folders are refused before anything is read from them.

        Run in a child process with 1 GiB of memory: reading ``/dev/zero`` to its end would
        otherwise take the machine's memory, and a pipe would block forever.
        """
        code = f"""
import os, pathlib
from hirepipe import Policy, PolicyError
tmp = pathlib.Path({str(tmp_path)!r})
{setup}
try:
    Policy.from_file(path)
except PolicyError as error:
    (problem,) = error.problems
    print(problem.where == str(path), problem.message)
"""
        done = run_bounded(code, timeout=30)
        assert ("", 0) == (done.stderr, done.returncode)
        assert done.stdout.startswith(f"True {message}")

    def test_the_limit_does_not_trust_the_size_on_record(self, tmp_path, monkeypatch):
        """A file whose recorded size is small is still read no further than the limit."""
        huge = tmp_path / "huge.toml"
        huge.write_bytes(b"#" * (MAX_FILE_BYTES + 1))
        real_stat = os.stat

        def small(path, *args, **kwargs):
            found = real_stat(path, *args, **kwargs)
            return os.stat_result((*found[:6], 10, *found[7:]))

        monkeypatch.setattr(os, "stat", small)
        monkeypatch.setattr(os, "fstat", lambda fd: small(fd))
        with pytest.raises(PolicyError, match="too large for a policy"):
            Policy.from_file(huge)


class TestTomlWriter:
    """Policies are written by tomli-w: whatever their text, the TOML reads back equal."""

    def test_a_key_that_needs_quoting(self):
        """A rejection reason whose name is no bare TOML key is quoted and reads back."""
        policy = STANDARD.with_rejection_reasons(**{'late: "2 days" = #1': "company"})
        assert policy == Policy.from_dict(tomllib.loads(policy.to_toml()))

    def test_a_key_ending_in_a_newline_is_refused(self):
        """A reason name ending in a newline is no identifier: the policy refuses it."""
        with pytest.raises(PolicyError, match=r"rejection_reasons\.late"):
            STANDARD.with_rejection_reasons(**{"late\n": "company"})

    @settings(max_examples=200, deadline=None)
    @given(
        names=st.lists(HOSTILE_NAME, min_size=3, max_size=3),
        texts=st.lists(HOSTILE_TEXT, min_size=4, max_size=4),
        stage=HOSTILE_NAME.filter(lambda s: not s.startswith("@") and s not in STANDARD.stages),
        event=HOSTILE_NAME.filter(lambda s: not s.startswith("@") and s not in STANDARD.events),
    )
    def test_hostile_documents_round_trip(self, names, texts, stage, event):
        """Names and keys with quotes or any Unicode, descriptions with anything, survive."""
        name, version, reason = names
        description, event_text, rule_text, side = texts
        document = renamed(STANDARD.to_dict(), stage="review", to=stage)
        document = renamed(document, event="note", to=event)
        document.update(name=name, version=version)
        document["rejection_reasons"][reason] = "company" if len(side) % 2 else "candidate"
        document["stages"][0]["description"] = description
        document["events"][0]["description"] = event_text
        document["notifications"][0]["description"] = rule_text
        policy = Policy.from_dict(document)
        text = policy.to_toml()
        assert policy == Policy.from_dict(tomllib.loads(text))


class TestImports:
    """Guards imported from a company's package fail as policy problems, never raw."""

    @pytest.mark.parametrize(
        "prefix", ["", ".hiring", "acme..hiring", "acme.1st", "acme:guards"], ids=repr
    )
    def test_allow_imports_takes_package_names(self, prefix):
        """An entry that is not a dotted package name is refused when the registry is built."""
        with pytest.raises(ValueError, match=f"allow_imports: {prefix!r} is not a package name"):
            Registry(allow_imports=[prefix])

    def test_allow_imports_takes_a_list(self):
        """One string is refused: each of its letters would become an allowed package."""
        with pytest.raises(ValueError, match=r"not one string: allow_imports=\['acme'\]"):
            Registry(allow_imports="acme")

    def test_a_module_that_raises_on_import(self):
        """An allowed module that raises on import is a PolicyError naming it and the error."""
        document = tiny(
            events=[
                {
                    "name": "finish",
                    "sources": ["a"],
                    "dest": "done",
                    "guards": ["tests.raises_on_import:passed"],
                    "effect": "tests.raises_on_import:stamp",
                },
            ]
        )
        registry = Registry(allow_imports=["tests"])
        expected = (
            "importing 'tests.raises_on_import' raised RuntimeError: ACME_HIRING_URL is not "
            "set; fix the module or stop naming it"
        )
        assert [
            f"<dict>: events.finish.guards: {expected}",
            f"<dict>: events.finish.effect: {expected}",
        ] == problems(document, registry=registry)
