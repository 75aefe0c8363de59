"""Check what the `stripe` library sends against Stripe's 2023-08-16 OpenAPI document.

No mock server can load Stripe's document (../shared/STACK-NOTES.md), so the check runs
in-process: `RecordingHttpClient` takes the library's requests instead of the network and answers
with the document's own example objects (fixtures3); `StripeDocument.check` validates each request
against its operation: every parameter name known (nested objects, arrays, anyOf alternatives),
required ones present, enum values allowed, form values of the right type.

The document declares no header parameters (Idempotency-Key, Stripe-Version and Stripe-Account
are Stripe-wide conventions it only mentions in prose), so apart from Authorization, Content-Type
and the API version those are asserted by the tests themselves.

Loading the 4 MB YAML takes about 1.1 s with PyYAML's C loader on the 2-core CI machine (3.5 s
with the pure-Python one): loaded once per test session, not worth a cache on disk.
"""

from __future__ import annotations

import copy
import functools
import itertools
import json
import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlsplit

import stripe
import yaml

from tests.material import SPECS

SPEC_PATH = SPECS / "stripe_spec3_2023-08-16.yaml"
FIXTURES_PATH = SPECS / "stripe_fixtures3_2023-08-16.json"
FORM = "application/x-www-form-urlencoded"

JsonObject = dict[str, Any]
# A decoded form: nested dicts whose leaves are the raw strings. Arrays stay dicts keyed "0",
# "1", ... until a schema says they are arrays: `metadata[0]` is a key, `line_items[0]` an index.
Form = dict[str, Any]


@dataclass(frozen=True)
class Problem:
    where: str  # a parameter in Stripe's bracket notation, or "header X" / "operation"
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass(frozen=True)
class RecordedRequest:
    method: str  # upper case
    url: str
    headers: Mapping[str, str]
    body: str | None

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), None)

    def parameters(self) -> str:
        """The form-encoded parameters: the body of a POST, the query string otherwise."""
        if self.method == "POST":
            return self.body or ""
        return urlsplit(self.url).query

    def form(self) -> Form:
        decoded, problems = decode_form(self.parameters())
        assert not problems, problems
        return decoded


# --- form decoding ---------------------------------------------------------------------------

_NAME = re.compile(r"([^\[\]]+)((?:\[[^\[\]]*\])*)")
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")


def decode_form(encoded: str) -> tuple[Form, list[Problem]]:
    """`a[b][0][c]=x` pairs into nested dicts; malformed or clashing names become problems."""
    tree: Form = {}
    problems: list[Problem] = []
    for name, value in parse_qsl(encoded, keep_blank_values=True):
        match = _NAME.fullmatch(name)
        if not match:
            problems.append(Problem(name, "malformed parameter name"))
            continue
        segments = [match[1], *_SEGMENT.findall(match[2])]
        problem = _insert(tree, segments, value, name)
        if problem:
            problems.append(problem)
    return tree, problems


def _insert(tree: Form, segments: list[str], value: str, name: str) -> Problem | None:
    node = tree
    for segment in segments[:-1]:
        key = segment if segment else str(len(node))  # `expand[]` appends
        child = node.setdefault(key, {})
        if not isinstance(child, dict):
            return Problem(name, "sent both as a value and with nested parameters")
        node = child
    last = segments[-1] if segments[-1] else str(len(node))
    if last in node:
        return Problem(name, "sent more than once")
    node[last] = value
    return None


# --- schema validation -----------------------------------------------------------------------


def _child(where: str, name: str) -> str:
    return f"{where}[{name}]" if where else name


class _Validator:
    """Validates a decoded form against an OpenAPI schema, collecting every problem."""

    def __init__(self, document: JsonObject) -> None:
        self._document = document

    def check(self, schema: JsonObject, value: Any, where: str) -> list[Problem]:
        schema = self._resolve(schema)
        alternatives = schema.get("anyOf") or schema.get("oneOf")
        if alternatives:
            return self._check_alternatives(alternatives, value, where)
        kind = schema.get("type")
        if kind == "object" or "properties" in schema:
            return self._check_object(schema, value, where)
        if kind == "array":
            return self._check_array(schema, value, where)
        return _check_scalar(schema, value, where)

    def _resolve(self, schema: JsonObject) -> JsonObject:
        while "$ref" in schema:
            node: Any = self._document
            for part in schema["$ref"].removeprefix("#/").split("/"):
                node = node[part]
            schema = node
        return schema

    def _check_alternatives(
        self, alternatives: list[JsonObject], value: Any, where: str
    ) -> list[Problem]:
        outcomes = [self.check(option, value, where) for option in alternatives]
        best = min(outcomes, key=len)
        if not best or any(p.where != where for p in best):
            return best  # a fitting alternative, or the closest one's nested problems
        reasons = " | ".join(p.message for outcome in outcomes for p in outcome)
        return [Problem(where, f"matches none of the alternatives: {reasons}")]

    def _check_object(
        self, schema: JsonObject, value: Any, where: str
    ) -> list[Problem]:
        if not isinstance(value, dict):
            return [
                Problem(where, f"expected nested parameters (an object), got {value!r}")
            ]
        properties: JsonObject = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        problems: list[Problem] = []
        for name, item in value.items():
            if name in properties:
                problems += self.check(properties[name], item, _child(where, name))
            elif isinstance(extra, dict):
                problems += self.check(extra, item, _child(where, name))
            elif extra is not True and properties:
                # Stripe refuses unknown parameters at every depth, even where the document
                # omits `additionalProperties: false` on nested objects.
                problems.append(Problem(_child(where, name), "unknown parameter"))
        for name in schema.get("required", []):
            if name not in value:
                problems.append(
                    Problem(_child(where, name), "required parameter missing")
                )
        return problems

    def _check_array(self, schema: JsonObject, value: Any, where: str) -> list[Problem]:
        if not isinstance(value, dict):
            return [
                Problem(where, f"expected indexed parameters (an array), got {value!r}")
            ]
        if not all(key.isdigit() for key in value):
            return [
                Problem(where, f"array indexes must be integers, got {sorted(value)}")
            ]
        if sorted(int(key) for key in value) != list(range(len(value))):
            return [
                Problem(where, f"array indexes must run from 0, got {sorted(value)}")
            ]
        problems: list[Problem] = []
        for index in sorted(value, key=int):
            problems += self.check(
                schema.get("items", {}), value[index], _child(where, index)
            )
        return problems


def _check_scalar(schema: JsonObject, value: Any, where: str) -> list[Problem]:
    kind = schema.get("type", "string")
    if isinstance(value, dict):
        return [
            Problem(where, f"expected a {kind}, got nested parameters {sorted(value)}")
        ]
    type_problem = _scalar_type_problem(schema, kind, value)
    if type_problem:
        return [Problem(where, type_problem)]
    problems: list[Problem] = []
    if "enum" in schema and value not in [_form_value(e) for e in schema["enum"]]:
        bypass = (
            " (x-stripeBypassValidation)"
            if schema.get("x-stripeBypassValidation")
            else ""
        )
        allowed = ", ".join(repr(_form_value(e)) for e in schema["enum"])
        problems.append(Problem(where, f"{value!r} is not one of {allowed}{bypass}"))
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        problems.append(Problem(where, f"longer than {schema['maxLength']} characters"))
    return problems


def _scalar_type_problem(schema: JsonObject, kind: str, value: str) -> str | None:
    if kind == "integer" and not re.fullmatch(r"-?\d+", value):
        return f"expected an integer, got {value!r}"
    if kind == "number" and not _is_decimal(value):
        return f"expected a number, got {value!r}"
    if kind == "boolean" and value not in ("true", "false"):
        return f"expected a boolean ('true' or 'false'), got {value!r}"
    if schema.get("format") == "decimal" and not _is_decimal(value):
        return f"expected a decimal string, got {value!r}"
    return None


def _is_decimal(value: str) -> bool:
    try:
        return Decimal(value).is_finite()
    except InvalidOperation:
        return False


def _form_value(value: Any) -> str:
    """How a JSON enum value travels in a form."""
    return str(value).lower() if isinstance(value, bool) else str(value)


# --- the document ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    method: str
    template: str  # e.g. /v1/payment_intents/{intent}
    pattern: re.Pattern[str]
    spec: JsonObject

    def parameters_schema(self) -> JsonObject:
        """One object schema for the form: the request body, or the query parameters."""
        content = self.spec.get("requestBody", {}).get("content", {})
        if FORM in content:
            schema: JsonObject = content[FORM]["schema"]
            return schema
        query = [p for p in self.spec.get("parameters", []) if p["in"] == "query"]
        return {
            "type": "object",
            "properties": {p["name"]: p["schema"] for p in query},
            "required": [p["name"] for p in query if p.get("required")],
            "additionalProperties": False,
        }

    def path_parameters(self) -> dict[str, JsonObject]:
        return {
            p["name"]: p["schema"]
            for p in self.spec.get("parameters", [])
            if p["in"] == "path"
        }

    def response_object(self) -> str | None:
        """The fixture name of the success answer, e.g. "checkout.session"."""
        content = self.spec["responses"].get("200", {}).get("content", {})
        ref = content.get("application/json", {}).get("schema", {}).get("$ref", "")
        return ref.rsplit("/", 1)[-1] or None


@dataclass
class StripeDocument:
    spec: JsonObject
    fixtures: dict[str, JsonObject]
    load_seconds: float
    _operations: list[Operation] = field(init=False)

    def __post_init__(self) -> None:
        self._operations = sorted(_operations(self.spec), key=_fixed_paths_first)
        self._validator = _Validator(self.spec)

    @property
    def version(self) -> str:
        version: str = self.spec["info"]["version"]
        return version

    def operation(self, method: str, path: str) -> Operation | None:
        for operation in self._operations:
            if operation.method == method and operation.pattern.fullmatch(path):
                return operation
        return None

    def fixture(self, name: str) -> JsonObject:
        return copy.deepcopy(self.fixtures[name])

    def check(self, request: RecordedRequest) -> list[Problem]:
        """Every way `request` departs from the document, with the parameter's path."""
        operation = self.operation(request.method, request.path)
        if operation is None:
            return [
                Problem(
                    "operation",
                    f"{request.method} {request.path} is not in the document",
                )
            ]
        form, problems = decode_form(request.parameters())
        problems += self._header_problems(request, operation)
        problems += self._path_problems(request, operation)
        problems += self._validator.check(operation.parameters_schema(), form, "")
        return problems

    def _header_problems(
        self, request: RecordedRequest, operation: Operation
    ) -> list[Problem]:
        problems: list[Problem] = []
        authorization = request.header("Authorization") or ""
        # securitySchemes: HTTP basic or bearer, the API key as the credential.
        if not authorization.startswith(("Bearer ", "Basic ")):
            problems.append(
                Problem("header Authorization", "no Bearer or Basic credentials")
            )
        version = request.header("Stripe-Version")
        if version and version != self.version:
            problems.append(
                Problem(
                    "header Stripe-Version",
                    f"{version} is not the document's {self.version}: parameters added since "
                    "are unknown to it",
                )
            )
        content = operation.spec.get("requestBody", {}).get("content", {})
        content_type = (request.header("Content-Type") or "").split(";")[0]
        if request.method == "POST" and content and content_type not in content:
            problems.append(
                Problem("header Content-Type", f"{content_type!r} not accepted")
            )
        return problems

    def _path_problems(
        self, request: RecordedRequest, operation: Operation
    ) -> list[Problem]:
        match = operation.pattern.fullmatch(request.path)
        assert match
        problems: list[Problem] = []
        for name, schema in operation.path_parameters().items():
            problems += self._validator.check(schema, match[name], f"path {name}")
        return problems


def _operations(spec: JsonObject) -> Iterator[Operation]:
    for template, methods in spec["paths"].items():
        pattern = re.compile(
            re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
        )
        for method, operation in methods.items():
            if method in ("get", "post", "delete"):
                yield Operation(method.upper(), template, pattern, operation)


def _fixed_paths_first(operation: Operation) -> tuple[int, str]:
    # /v1/customers/search must win over /v1/customers/{customer}.
    return operation.template.count("{"), operation.template


@functools.cache
def stripe_document() -> StripeDocument:
    """The document and its fixtures, loaded once per test session."""
    started = time.perf_counter()
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with SPEC_PATH.open("rb") as spec_file:
        spec = yaml.load(spec_file, Loader=loader)  # noqa: S506 - a safe loader
    fixtures = json.loads(FIXTURES_PATH.read_text())["resources"]
    return StripeDocument(spec, fixtures, time.perf_counter() - started)


# --- the fake Stripe -------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """How the fake Stripe answers one request: the operation's fixture with `patch` applied,
    an error object for a non-2xx `status`, or no answer at all (`connection_error`)."""

    status: int = 200
    patch: JsonObject = field(default_factory=dict)
    error: JsonObject | None = None
    connection_error: bool = False


def card_error(
    code: str, *, decline_code: str | None = None, intent: JsonObject
) -> Reply:
    """A 402 in Stripe's error shape, carrying the PaymentIntent as Stripe does."""
    error: JsonObject = {
        "type": "card_error",
        "code": code,
        "message": f"Your card was declined ({code}).",
        "payment_intent": {**stripe_document().fixture("payment_intent"), **intent},
    }
    if decline_code:
        error["decline_code"] = decline_code
    return Reply(status=402, error=error)


def api_error(status: int, error_type: str, message: str) -> Reply:
    return Reply(status=status, error={"type": error_type, "message": message})


class RecordingHttpClient(stripe.HTTPClient):
    """Stands in for the network: records every request, answers from the fixtures.

    Replies are taken from `replies` in order; once they run out, each request gets its
    operation's fixture with a fresh id and the request's own values echoed, so that what our
    code reads back (id, url, status, metadata) is consistent with what it sent.
    """

    name: ClassVar[str] = "recording"

    def __init__(
        self, document: StripeDocument, replies: list[Reply] | None = None
    ) -> None:
        super().__init__()
        self.document = document
        self.replies = list(replies or [])
        self.requests: list[RecordedRequest] = []
        self._ids = itertools.count(1)

    def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
        *,
        _usage: list[str] | None = None,
    ) -> tuple[str, int, Mapping[str, str]]:
        recorded = RecordedRequest(method.upper(), url, dict(headers or {}), post_data)
        self.requests.append(recorded)
        reply = self.replies.pop(0) if self.replies else Reply()
        if reply.connection_error:
            raise stripe.APIConnectionError("fake network failure", should_retry=True)
        status, body = reply.status, {"error": reply.error}
        if not reply.error:
            status, body = self._answer(recorded, reply)
        return json.dumps(body), status, {"request-id": f"req_fake{next(self._ids)}"}

    def request_stream(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
        *,
        _usage: list[str] | None = None,
    ) -> tuple[Any, int, Mapping[str, str]]:
        raise NotImplementedError("the gateway never streams")

    def close(self) -> None:
        pass

    def _sleep_time_seconds(self, num_retries: int) -> float:
        return 0  # retries are part of the contract, their back-off is not

    def _answer(self, request: RecordedRequest, reply: Reply) -> tuple[int, JsonObject]:
        operation = self.document.operation(request.method, request.path)
        name = operation.response_object() if operation else None
        if name is None or name not in self.document.fixtures:
            message = f"Unrecognized request URL ({request.method}: {request.path})."
            return 404, {"error": {"type": "invalid_request_error", "message": message}}
        answer = self.document.fixture(name)
        _echo(answer, decode_form(request.parameters())[0])
        prefix = str(answer["id"]).rsplit("_", 1)[0]  # "cs_test", "pi", "cus"
        answer["id"] = f"{prefix}_fake{next(self._ids):06d}"
        if name == "checkout.session":
            answer["url"] = f"https://checkout.stripe.com/c/pay/{answer['id']}"
        answer.update(reply.patch)
        return reply.status, answer


def _echo(answer: JsonObject, form: Form) -> None:
    """Copy the request's top-level values into the answer, typed like the fixture's."""
    for key, sent in form.items():
        if key not in answer or key == "id":
            continue
        current = answer[key]
        if isinstance(sent, dict):
            if key == "metadata":
                answer[key] = sent
        elif isinstance(current, bool):
            answer[key] = sent == "true"
        elif isinstance(current, int):
            if re.fullmatch(r"-?\d+", sent):
                answer[key] = int(sent)
        elif current is None or isinstance(current, str):
            answer[key] = sent
