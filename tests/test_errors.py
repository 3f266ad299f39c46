"""The error tree as a web layer sees it: codes, HTTP statuses, problem documents, gate errors.

The tree test walks every subclass of ``CaselibError`` that exists once every caselib module
is imported, so a class added anywhere later is held to the same rules without editing this
file (a class whose constructor the generic builder cannot fill gets a row in ``SAMPLES``).
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import re
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

import caselib
from actors import READER
from caselib import (
    Actor,
    CaselibError,
    GateRequired,
    InvalidInput,
    MemoryStore,
    NoteRequired,
    PermissionDenied,
    ServiceDesk,
    TenantSettings,
    Workflow,
)
from caselib.errors import (
    ERROR_TYPE_PREFIX,
    ArticleNotFound,
    CaseNotFound,
    CommandRefused,
    ConcurrencyConflict,
    NotFound,
    StorageError,
    TextTooLong,
    TransitionNotAllowed,
    UnknownValue,
)
from caselib.testing import FrozenClock

_OPTIONAL = {"caselib.storage.postgres"}  # needs a driver a host may not install


def _import_everything() -> None:
    for info in pkgutil.walk_packages(caselib.__path__, "caselib."):
        try:
            importlib.import_module(info.name)
        except ImportError:
            if info.name not in _OPTIONAL:
                raise


def every_error_class() -> list[type[CaselibError]]:
    """CaselibError and all its subclasses, recursively, in a stable order."""
    _import_everything()
    found: dict[type[CaselibError], None] = {CaselibError: None}
    stack = [CaselibError]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub not in found:
                found[sub] = None
                stack.append(sub)
    return sorted(found, key=lambda c: (c.__module__, c.__qualname__))


NASTY = {"id": ["x"], "nan": float("nan"), "lone": "ab\ud800cd", "big": 2**80,
         "obj": object(), "deep": [[[[["too deep"]]]]]}
"""A value a caller might send where an id goes: every error echoing it must stay JSON."""

SAMPLES: dict[type[CaselibError], list[Callable[[], CaselibError]]] = {
    UnknownValue: [lambda: UnknownValue("priority", NASTY, ["low", "normal"]),
                   lambda: UnknownValue("status", "ab\ud800", ())],
    TextTooLong: [lambda: TextTooLong("subject", 300, 250)],
    TransitionNotAllowed: [lambda: TransitionNotAllowed("new", "closed", ["open"])],
    GateRequired: [lambda: GateRequired("scheduled", "assignee", "an assignee", how="assign")],
    NoteRequired: [lambda: NoteRequired("resolved", "a summary", parameter="summary")],
    PermissionDenied: [
        lambda: PermissionDenied(permission="service.resolve", roles=("manager", "admin")),
        lambda: PermissionDenied("customers cannot assign cases"),
        lambda: PermissionDenied(),
    ],
    CaseNotFound: [lambda: CaseNotFound("c-1", "acme"), lambda: CaseNotFound(NASTY)],  # type: ignore[arg-type]
    ArticleNotFound: [lambda: ArticleNotFound("kb-1")],
    ConcurrencyConflict: [lambda: ConcurrencyConflict("c-1", 3, 4)],
}
"""Instances with every field filled, for the classes whose constructors say more than a
message (the generic builder covers the rest)."""

_BY_NAME: dict[str, object] = {"field": "subject", "value": NASTY, "allowed": ("a", "b"),
                               "length": 3, "limit": 2, "message": "something is wrong"}


def instances(cls: type[CaselibError]) -> list[CaselibError]:
    """Sample instances of ``cls``: from SAMPLES, else built from its signature."""
    if cls in SAMPLES:
        return [make() for make in SAMPLES[cls]]
    args: list[object] = []
    kwargs: dict[str, object] = {}
    try:
        parameters = inspect.signature(cls).parameters.values()
    except ValueError:  # no __init__ of its own anywhere: Exception's (message)
        return [cls("something is wrong")]
    for p in parameters:
        if p.default is not inspect.Parameter.empty or p.kind in (p.VAR_POSITIONAL,
                                                                  p.VAR_KEYWORD):
            continue
        value = _BY_NAME.get(p.name, f"sample {p.name}")
        if p.kind is p.KEYWORD_ONLY:
            kwargs[p.name] = value
        else:
            args.append(value)
    return [cls(*args, **kwargs)]


CLASSES = every_error_class()


class TestTheTree:
    """Every error class, including ones added later, has a stable code, a status and a
    JSON problem document."""

    def test_the_walk_finds_the_tree(self) -> None:
        """The walk reaches the leaves (so the checks below really cover them)."""
        assert {NoteRequired, CaseNotFound, PermissionDenied, TextTooLong} <= set(CLASSES)

    @pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
    def test_each_class_names_its_own_code(self, cls: type[CaselibError]) -> None:
        """``code`` is set on the class itself (an inherited one would be shared) and is
        snake_case."""
        assert "code" in cls.__dict__, f"{cls.__name__} must define its own code"
        assert re.fullmatch(r"[a-z][a-z0-9_]*", cls.code)
        assert isinstance(cls.title, str) and cls.title

    def test_a_class_added_later_is_walked(self) -> None:
        """A subclass defined anywhere is found, and one without its own code is seen so."""

        class Late(InvalidInput):
            pass

        assert Late in every_error_class()
        assert "code" not in Late.__dict__  # what test_each_class_names_its_own_code refuses

    def test_codes_are_unique(self) -> None:
        """No two classes share a code (a web client switches on it)."""
        codes = [cls.code for cls in CLASSES]
        assert sorted(c for c in codes if codes.count(c) > 1) == []

    @pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
    def test_http_status_fits_the_branch(self, cls: type[CaselibError]) -> None:
        """Bad input and refusals are the client's (4xx); a storage failure may be 5xx."""
        assert isinstance(cls.http_status, int) and 400 <= cls.http_status <= 599
        if issubclass(cls, (InvalidInput, CommandRefused, NotFound)):
            assert 400 <= cls.http_status < 500

    @pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
    def test_to_dict_is_a_json_problem_document(self, cls: type[CaselibError]) -> None:
        """type/title/status/detail/code plus the class's fields, JSON-native, strict JSON
        (no NaN), encodable as UTF-8 even when the caller sent a lone surrogate."""
        for err in instances(cls):
            doc = err.to_dict()
            text = json.dumps(doc, allow_nan=False, ensure_ascii=False)
            text.encode("utf-8")
            assert json.loads(text) == doc  # only JSON-native values: nothing was coerced
            assert doc["type"] == ERROR_TYPE_PREFIX + cls.code
            assert doc["code"] == cls.code
            assert doc["status"] == cls.http_status
            assert doc["title"] == cls.title
            assert isinstance(doc["detail"], str) and doc["detail"]
            for klass in cls.__mro__:
                for name in getattr(klass, "problem_fields", ()) if klass is not object else ():
                    assert name in doc

    def test_statuses_as_documented(self) -> None:
        """The statuses docs/errors.md promises."""
        documented = {
            "CaselibError": 500, "InvalidInput": 422, "NaiveDatetime": 422,
            "UnknownValue": 422, "TextTooLong": 422, "InvalidConfiguration": 422,
            "CommandRefused": 409, "TransitionNotAllowed": 409, "GateRequired": 409,
            "NoteRequired": 422, "PermissionDenied": 403, "StorageError": 500,
            "NotFound": 404, "CaseNotFound": 404, "ArticleNotFound": 404,
            "ConcurrencyConflict": 409, "DuplicateKey": 409, "SchemaMismatch": 500,
        }
        import caselib.errors as errors
        assert {name: getattr(errors, name).http_status for name in documented} == documented


class TestDocuments:
    """What the documents say for the errors a web client acts on."""

    def test_transition_not_allowed(self) -> None:
        """The current status, the requested one and the allowed targets, as lists."""
        doc = TransitionNotAllowed("new", "closed", ("open",)).to_dict()
        assert doc == {
            "type": "urn:caselib:error:transition_not_allowed",
            "title": "Transition not allowed",
            "status": 409,
            "detail": "cannot move a case from 'new' to 'closed'; allowed from 'new': open",
            "code": "transition_not_allowed",
            "current": "new", "requested": "closed", "allowed": ["open"],
        }

    def test_unknown_value_echoes_what_was_sent_safely(self) -> None:
        """A refused value comes back JSON-native: NaN and objects as text, long text cut."""
        doc = UnknownValue("priority", {"n": float("nan"), "x": "y" * 500}, ["low"]).to_dict()
        assert doc["field"] == "priority" and doc["allowed"] == ["low"]
        assert doc["value"]["n"] == "nan"
        assert len(doc["value"]["x"]) == 201

    def test_invalid_input_names_the_field(self) -> None:
        """``field`` is there even when unknown (``null``), so clients read one shape."""
        assert InvalidInput("bad", field="tags").to_dict()["field"] == "tags"
        assert InvalidInput("bad").to_dict()["field"] is None

    def test_not_found_and_conflict_carry_the_case(self) -> None:
        """404 and 409 documents name the case (and the versions of a conflict)."""
        assert CaseNotFound("c-9", "acme").to_dict()["case_id"] == "c-9"
        doc = ConcurrencyConflict("c-9", 3, 4).to_dict()
        assert (doc["case_id"], doc["expected"], doc["actual"], doc["status"]) == ("c-9", 3, 4,
                                                                                   409)

    def test_a_storage_error_is_a_500_without_internals(self) -> None:
        """The driver's error is chained for the log, not put in the document."""
        try:
            try:
                raise OSError("disk full at /var/lib/secret")
            except OSError as err:
                raise StorageError("the store failed; try again later") from err
        except StorageError as err:
            doc = err.to_dict()
        assert doc["status"] == 500 and "secret" not in json.dumps(doc)


class TestPermissionDenied:
    """The missing permission and the roles that grant it, in the message and the document."""

    def test_names_permission_and_roles(self) -> None:
        """Who to ask is in the message."""
        err = PermissionDenied(permission="service.resolve", roles=("manager", "owner"))
        assert err.permission == "service.resolve" and err.roles == ("manager", "owner")
        assert "'service.resolve'" in str(err) and "manager, owner" in str(err)
        doc = err.to_dict()
        assert (doc["permission"], doc["roles"], doc["status"]) == (
            "service.resolve", ["manager", "owner"], 403)

    def test_a_message_and_a_permission(self) -> None:
        """A caller's own words come first; the permission follows."""
        err = PermissionDenied("customers cannot assign cases", permission="service.write",
                               roles=["support"])
        assert str(err).startswith("customers cannot assign cases; ")
        assert "granted by the roles support" in str(err)

    def test_old_style_and_bare(self) -> None:
        """A plain message still works; no argument at all still says something."""
        assert str(PermissionDenied("only agents can redact")) == "only agents can redact"
        assert PermissionDenied("x").to_dict()["permission"] is None
        assert str(PermissionDenied()) == "permission denied"
        assert "no role" in str(PermissionDenied(permission="service.admin"))


T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ANA = Actor.agent("ana")


def _desk(workflow: Workflow | None = None) -> ServiceDesk:
    settings = TenantSettings(workflow=workflow) if workflow else None
    return ServiceDesk(MemoryStore(), tenant="acme", clock=FrozenClock(T0), settings=settings)


def _pending(desk: ServiceDesk) -> str:
    case = desk.create_case(subject="VPN drops", actor=ANA)
    for status in ("open", "in_progress", "pending_customer"):
        case = desk.transition(case.id, status, actor=ANA)
    return case.id


class TestGateErrors:
    """A gate error names its gate, and the argument of the command actually called."""

    def test_resolve_says_summary(self) -> None:
        """resolve() takes ``summary``; its refusal says so, and nothing changes."""
        desk = _desk()
        cid = _pending(desk)
        before = desk.get_case(cid, actor=READER).version
        with pytest.raises(NoteRequired) as info:
            desk.resolve(cid, "   ", actor=ANA)
        err = info.value
        assert "pass summary=" in str(err) and "note=" not in str(err)
        assert (err.gate, err.parameter, err.target) == ("note", "summary", "resolved")
        assert err.to_dict()["parameter"] == "summary"
        assert desk.get_case(cid, actor=READER).version == before

    def test_resolve_with_a_non_text_summary_names_summary(self) -> None:
        """The field of a wrong-type summary is ``summary`` too."""
        desk = _desk()
        cid = _pending(desk)
        with pytest.raises(InvalidInput) as info:
            desk.resolve(cid, 123, actor=ANA)  # type: ignore[arg-type]
        assert info.value.field == "summary"

    def test_transition_and_close_say_note(self) -> None:
        """transition() and close() take ``note``."""
        desk = _desk()
        cid = _pending(desk)
        with pytest.raises(NoteRequired, match=r"pass note=\.\.\.") as info:
            desk.transition(cid, "resolved", actor=ANA)
        assert info.value.parameter == "note"
        desk.resolve(cid, "Fixed", actor=ANA)
        with pytest.raises(NoteRequired, match=r"requires a note; pass note=\.\.\."):
            desk.close(cid, "", actor=ANA)

    def test_reopen_says_reason(self) -> None:
        """A workflow that gates reopening on a note asks reopen() for its ``reason``."""
        wf = Workflow.from_dict({
            "name": "strict",
            "statuses": [{"id": "new", "category": "new"}, {"id": "done", "category": "resolved"}],
            "transitions": [{"from": "new", "to": "done"},
                            {"from": "done", "to": "new", "gates": ["note"]}],
        })
        desk = _desk(wf)
        case = desk.create_case(subject="Broken", actor=ANA)
        desk.resolve(case.id, "Fixed", actor=ANA)
        with pytest.raises(NoteRequired, match=r"pass reason=\.\.\."):
            desk.reopen(case.id, actor=ANA)
        assert desk.reopen(case.id, actor=ANA, reason="came back").status == "new"

    def test_a_custom_resolved_status_asks_for_a_summary(self) -> None:
        """"a resolution summary" follows the category, not the status id ``resolved``."""
        wf = Workflow.from_dict({
            "name": "short",
            "statuses": [{"id": "new", "category": "new"}, {"id": "done", "category": "resolved"}],
            "transitions": [{"from": "new", "to": "done"}],
        }).compile()
        with pytest.raises(NoteRequired, match="requires a resolution summary"):
            wf.check("new", "done")

    def test_assignee_gate_is_not_a_note(self) -> None:
        """The assignee gate raises GateRequired(gate="assignee") and says to assign first."""
        wf = Workflow.from_dict({
            "name": "field",
            "statuses": [{"id": "reported", "category": "new"},
                         {"id": "scheduled", "category": "open"}],
            "transitions": [{"from": "reported", "to": "scheduled", "gates": ["assignee"]}],
        })
        desk = _desk(wf)
        case = desk.create_case(subject="Site visit", actor=ANA, assignee=None, team="field")
        with pytest.raises(GateRequired) as info:
            desk.transition(case.id, "scheduled", actor=ANA, note="ready")
        err = info.value
        assert not isinstance(err, NoteRequired)
        assert (err.gate, err.target) == ("assignee", "scheduled")
        assert "note" not in str(err) and "assign the case first" in str(err)
        doc = err.to_dict()
        assert (doc["code"], doc["gate"], doc["requested"], doc["status"]) == (
            "gate_required", "assignee", "scheduled", 409)
        assert desk.get_case(case.id, actor=READER).version == case.version
        desk.assign(case.id, actor=ANA, assignee="ana")
        assert desk.transition(case.id, "scheduled", actor=ANA).status == "scheduled"
