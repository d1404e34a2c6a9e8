"""GraphQL over HTTP (https://graphql.github.io/graphql-over-http/draft/), rule by rule, over real
HTTP against the real gateway and sandbox, for both response media types.

Each test names the section and the rule it checks. Every answer any test gets is also checked
for the contract that every error carries `extensions.code` (`send`). Where the draft leaves the
server a choice, the test says which one Panjereh makes (see schema/media_types.py and
schema/http_answer.py).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio
from multidict import CIMultiDictProxy

from sandbox import PERSONAS
from server import CONNECTORS, METRICS
from tests.support.gateway import RunningGateway, running_gateway

pytestmark = pytest.mark.asyncio(loop_scope="module")

GR = "application/graphql-response+json"
JSON = "application/json"
BOTH = pytest.mark.parametrize("media", [GR, JSON])
NO_ACCEPT = object()
"""Send no Accept header at all (aiohttp adds `Accept: */*` unless told not to)."""

TYPENAME = "{ __typename }"
UNKNOWN_FIELD = "{ f8f31403dfe404bccbb0e835f2629c6a7 }"
FORCE = 'mutation Force { setCircuit(agency: "water", state: OPEN) { appliedTo } }'
COERCION = "query Coerce($name: String!) { __type(name: $name) { name } }"
TOO_MANY_ALIASES = "{ " + " ".join(f"a{n}: __typename" for n in range(31)) + " }"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def gw() -> AsyncIterator[RunningGateway]:
    async with running_gateway() as gateway:
        yield gateway


@dataclass
class Answer:
    status: int
    media_type: str
    charset: str | None
    headers: CIMultiDictProxy[str]
    body: dict[str, Any]


async def send(
    gw: RunningGateway,
    method: str = "POST",
    *,
    payload: object = None,
    data: bytes | None = None,
    params: dict[str, str] | None = None,
    accept: object = JSON,
    headers: dict[str, str] | None = None,
) -> Answer:
    """One request to /graphql; the answer, after checking that every error has a code."""
    sent = dict(headers or {})
    skip: list[str] = []
    if accept is NO_ACCEPT:
        skip.append("Accept")
    else:
        sent["Accept"] = str(accept)
    if payload is not None:
        data = json.dumps(payload).encode()
        sent.setdefault("Content-Type", "application/json")
    async with gw.client.request(
        method,
        f"{gw.url}/graphql",
        data=data,
        params=params,
        headers=sent,
        skip_auto_headers=skip,
    ) as response:
        text = await response.text()
        answer = Answer(
            response.status,
            response.content_type,
            response.charset,
            response.headers,
            json.loads(text) if text else {},
        )
    for error in answer.body.get("errors") or ():
        assert isinstance(error["extensions"]["code"], str), error
    return answer


def codes(answer: Answer) -> list[str]:
    return [error["extensions"]["code"] for error in answer.body["errors"]]


# --- Media types and Accept -------------------------------------------------------------------


async def test_body_server_must_support_requests_accepting_application_json(
    gw: RunningGateway,
) -> None:
    """§ Body: "A server MUST support any GraphQL-over-HTTP request which accepts the
    application/json media type" — answered in that media type."""
    answer = await send(gw, payload={"query": TYPENAME}, accept=JSON)
    assert (answer.status, answer.media_type) == (200, JSON)
    assert answer.body == {"data": {"__typename": "Query"}}


async def test_body_server_supports_requests_accepting_graphql_response_json(
    gw: RunningGateway,
) -> None:
    """§ Body: a server SHOULD (from 2025: MUST) support requests which accept
    application/graphql-response+json — answered in that media type."""
    answer = await send(gw, payload={"query": TYPENAME}, accept=GR)
    assert (answer.status, answer.media_type) == (200, GR)
    assert answer.body == {"data": {"__typename": "Query"}}


@BOTH
async def test_body_content_type_is_indicated_with_its_encoding(
    gw: RunningGateway, media: str
) -> None:
    """§ Body: "A server MUST indicate the media type of the response with a Content-Type
    header, and SHOULD indicate the encoding" — for an answer, a request error and a refusal."""
    for payload in ({"query": TYPENAME}, {"query": "{"}, {"query": 7}):
        answer = await send(gw, payload=payload, accept=media)
        assert (answer.media_type, answer.charset) == (media, "utf-8"), payload


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        (f"{JSON};q=0.5, {GR}", GR),
        (f"{GR};q=0.5, {JSON}", JSON),
        (f"{GR}, {JSON};q=0.9", GR),  # the specification's recommended Accept
        (f"{JSON}, {GR}", JSON),  # equal weights: the first listed
        (f"{JSON};q=0, */*", GR),
        (f"{GR}; charset=utf-8, {JSON}; charset=utf-8", GR),
        ("text/html, application/json;q=0.9", JSON),
    ],
)
async def test_body_highest_priority_acceptable_media_type_is_used(
    gw: RunningGateway, accept: str, chosen: str
) -> None:
    """§ Body: "the server MUST respect the given Accept header and attempt to encode the
    response in the highest priority media type listed that is supported by the server"."""
    answer = await send(gw, payload={"query": TYPENAME}, accept=accept)
    assert (answer.status, answer.media_type) == (200, chosen)


@pytest.mark.parametrize("accept", ["*/*", "application/*"])
async def test_accept_wildcard_is_answered_in_application_json(
    gw: RunningGateway, accept: str
) -> None:
    """§ Body: a wildcard accepts both media types; the server's choice is application/json,
    what clients sending `*/*` (fetch, curl) have always been given."""
    answer = await send(gw, payload={"query": "{"}, accept=accept)
    assert (answer.status, answer.media_type) == (200, JSON)


async def test_accept_missing_is_treated_as_graphql_response_json(gw: RunningGateway) -> None:
    """§ Body, legacy watershed: "if the client does not supply an Accept header, the server
    SHOULD treat the GraphQL-over-HTTP request as if it had Accept:
    application/graphql-response+json" (later drafts leave it to the server)."""
    answer = await send(gw, payload={"query": TYPENAME}, accept=NO_ACCEPT)
    assert (answer.status, answer.media_type) == (200, GR)
    refused = await send(gw, payload={"query": "{"}, accept=NO_ACCEPT)
    assert (refused.status, refused.media_type) == (400, GR)


@pytest.mark.parametrize(
    "accept", ["text/html", "application/xml", "*/*;q=0", f"{JSON}; charset=iso-8859-1"]
)
async def test_body_no_supported_media_type_in_accept_is_406(
    gw: RunningGateway, accept: str
) -> None:
    """§ Body: "when a client does not include at least one supported media type in the Accept
    HTTP header, the server MUST either: respond with a 406 Not Acceptable status code and stop
    processing the request (RECOMMENDED)" — nothing is run."""
    calls = gw.sandbox.calls("civil-registry")
    token = gw.token(PERSONAS["complete"])
    answer = await send(
        gw,
        payload={"query": "{ me { profile { firstName } } }"},
        accept=accept,
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status == 406
    assert codes(answer) == ["BAD_REQUEST"]
    assert "application/graphql-response+json" in answer.body["errors"][0]["message"]
    assert gw.sandbox.calls("civil-registry") == calls


@BOTH
async def test_media_types_utf_8_is_assumed_without_a_charset(
    gw: RunningGateway, media: str
) -> None:
    """§ Media Types / § POST: "For POST requests using an officially recognized GraphQL
    Content-Type without indicating an encoding, the server MUST assume the encoding is utf-8";
    and UTF-8 said outright is accepted too."""
    query = '{ __type(name: "Run🏃Swim🏊") { name } }'
    for content_type in ("application/json", "application/json; charset=utf-8"):
        answer = await send(
            gw,
            data=json.dumps({"query": query}, ensure_ascii=False).encode(),
            accept=media,
            headers={"Content-Type": content_type},
        )
        assert answer.status == 200 and answer.body == {"data": {"__type": None}}


# --- Request: methods, GET, POST ---------------------------------------------------------------


@BOTH
async def test_get_parameters_in_the_query_string_with_json_variables(
    gw: RunningGateway, media: str
) -> None:
    """§ GET: parameters in the query component, "{variables} and {extensions} ... MUST be
    encoded as a JSON string"."""
    params = {
        "query": "query Type($name: String!) { __type(name: $name) { name } }",
        "variables": json.dumps({"name": "Query"}),
        "extensions": json.dumps({"some": "value"}),
    }
    answer = await send(gw, "GET", params=params, accept=media)
    assert (answer.status, answer.media_type) == (200, media)
    assert answer.body == {"data": {"__type": {"name": "Query"}}}


@BOTH
async def test_get_empty_operation_name_is_no_operation_name(
    gw: RunningGateway, media: str
) -> None:
    """§ GET: "Setting the value of the {operationName} parameter to the empty string is
    equivalent to omitting the {operationName} parameter"."""
    answer = await send(
        gw, "GET", params={"query": "query Q { __typename }", "operationName": ""}, accept=media
    )
    assert answer.status == 200 and answer.body == {"data": {"__typename": "Query"}}


@BOTH
@pytest.mark.parametrize("variables", ["{", "[1]", '"text"'])
async def test_get_variables_that_are_not_a_json_object_are_400(
    gw: RunningGateway, media: str, variables: str
) -> None:
    """§ GET (variables MUST be a JSON string of a map) and § Request Parameters: not a
    well-formed GraphQL-over-HTTP request, 400 under both media types."""
    answer = await send(gw, "GET", params={"query": TYPENAME, "variables": variables}, accept=media)
    assert (answer.status, answer.media_type) == (400, media)
    assert codes(answer) == ["BAD_REQUEST"] and "`variables`" in answer.body["errors"][0]["message"]


@BOTH
async def test_get_mutation_is_405_and_not_executed(gw: RunningGateway, media: str) -> None:
    """§ GET: "GET requests MUST NOT be used for executing mutation operations ... the server
    MUST respond with error status code 405 (Method Not Allowed) and halt execution"; RFC 9110
    §15.5.6: a 405 carries Allow."""
    ops = gw.service_token("ops-dashboard", ["ops"])
    answer = await send(
        gw,
        "GET",
        params={"query": FORCE},
        accept=media,
        headers={"Authorization": f"Bearer {ops}"},
    )
    assert (answer.status, answer.media_type) == (405, media)
    assert answer.headers["Allow"] == "POST"
    assert codes(answer) == ["BAD_REQUEST"]
    assert gw.app[CONNECTORS].water.breaker.forced is False  # halted: nothing ran


@BOTH
async def test_url_same_endpoint_serves_queries_and_mutations_over_post(
    gw: RunningGateway, media: str
) -> None:
    """§ URL: "A server MUST NOT require the client to use different URLs for different GraphQL
    query and mutation requests" (a mutation without a token is refused by the schema, at the
    same URL, as a field error)."""
    answer = await send(gw, payload={"query": FORCE}, accept=media)
    assert answer.status == 200
    assert answer.body["data"] is None and codes(answer) == ["UNAUTHENTICATED"]


@BOTH
@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "OPTIONS"])
async def test_request_other_methods_are_405_with_allow(
    gw: RunningGateway, media: str, method: str
) -> None:
    """§ Request: "A server MUST accept POST requests, and MAY accept other HTTP methods, such
    as GET"; any other is refused with 405 (the draft's RECOMMENDED status), with Allow."""
    answer = await send(gw, method, payload={"query": TYPENAME}, accept=media)
    assert (answer.status, answer.media_type) == (405, media)
    assert answer.headers["Allow"] == "GET, POST"
    assert codes(answer) == ["BAD_REQUEST"]


@BOTH
async def test_post_without_content_type_is_rejected_with_4xx(
    gw: RunningGateway, media: str
) -> None:
    """§ POST: "If the client does not supply a Content-Type header with a POST request, the
    server SHOULD reject the request using the appropriate 4xx status code" (415)."""
    async with gw.client.post(
        f"{gw.url}/graphql",
        data=json.dumps({"query": TYPENAME}).encode(),
        headers={"Accept": media},
        skip_auto_headers=["Content-Type"],
    ) as response:
        assert response.status == 415 and response.content_type == media
        body = await response.json(content_type=None)
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


@BOTH
@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/graphql",
        "application/x-www-form-urlencoded",
        "application/json; charset=iso-8859-1",
    ],
)
async def test_post_unsupported_content_type_is_415(
    gw: RunningGateway, media: str, content_type: str
) -> None:
    """§ POST: "A server MUST support POST requests encoded with the application/json media
    type ... encoded with UTF-8" and MAY support others; this one supports no other, and says so
    with 415 (the draft's RECOMMENDED status)."""
    answer = await send(
        gw,
        data=json.dumps({"query": TYPENAME}).encode(),
        accept=media,
        headers={"Content-Type": content_type},
    )
    assert (answer.status, answer.media_type) == (415, media)
    assert codes(answer) == ["BAD_REQUEST"]


# --- Request parameters ----------------------------------------------------------------------

WRONG = [{"obj": "ect"}, 0, False, ["array"]]


@BOTH
@pytest.mark.parametrize("value", WRONG, ids=["object", "number", "boolean", "array"])
async def test_parameters_query_must_be_a_string(
    gw: RunningGateway, media: str, value: object
) -> None:
    """§ Request Parameters: "{query} - (Required, string)"; a request with another type "is not
    a well-formed GraphQL-over-HTTP request": 400, saying which parameter."""
    answer = await send(gw, payload={"query": value}, accept=media)
    assert (answer.status, answer.media_type) == (400, media)
    assert codes(answer) == ["BAD_REQUEST"]
    assert answer.body["errors"][0]["message"].startswith("`query` must be a string")


@BOTH
@pytest.mark.parametrize("value", WRONG, ids=["object", "number", "boolean", "array"])
async def test_parameters_operation_name_must_be_a_string(
    gw: RunningGateway, media: str, value: object
) -> None:
    """§ Request Parameters: "{operationName} - (Optional, string)"."""
    answer = await send(gw, payload={"query": TYPENAME, "operationName": value}, accept=media)
    assert (answer.status, answer.media_type) == (400, media)
    assert answer.body["errors"][0]["message"].startswith("`operationName` must be a string")


@BOTH
@pytest.mark.parametrize(
    ("name", "value"),
    [(name, value) for name in ("variables", "extensions") for value in ("text", 0, False, [7])],
)
async def test_parameters_variables_and_extensions_must_be_maps(
    gw: RunningGateway, media: str, name: str, value: object
) -> None:
    """§ Request Parameters: "{variables} - (Optional, map)", "{extensions} - (Optional, map)";
    § Status Codes example "Invalid parameters": SHOULD result in 400."""
    answer = await send(gw, payload={"query": TYPENAME, name: value}, accept=media)
    assert (answer.status, answer.media_type) == (400, media)
    assert answer.body["errors"][0]["message"].startswith(f"`{name}` must be an object")


@BOTH
@pytest.mark.parametrize("name", ["variables", "operationName", "extensions"])
async def test_parameters_null_is_the_same_as_absent(
    gw: RunningGateway, media: str, name: str
) -> None:
    """§ Request Parameters: "Specifying null for optional request parameters is equivalent to
    not specifying them at all" (the audits' MUST allow null ... parameter)."""
    answer = await send(gw, payload={"query": TYPENAME, name: None}, accept=media)
    assert answer.status == 200 and answer.body == {"data": {"__typename": "Query"}}


@BOTH
async def test_parameters_maps_and_strings_are_allowed(gw: RunningGateway, media: str) -> None:
    """§ JSON Encoding: a string {operationName}, a map of {variables} and of {extensions}."""
    payload = {
        "query": "query Q($name: String!) { __type(name: $name) { name } }",
        "operationName": "Q",
        "variables": {"name": "Query"},
        "extensions": {"some": "value"},
    }
    answer = await send(gw, payload=payload, accept=media)
    assert answer.status == 200 and answer.body == {"data": {"__type": {"name": "Query"}}}


@BOTH
@pytest.mark.parametrize(
    "body", [b"NONSENSE", b'{"query":', b'["not", "an", "object"]', b'{"qeury": "{ a }"}', b""]
)
async def test_status_not_well_formed_requests_are_400(
    gw: RunningGateway, media: str, body: bytes
) -> None:
    """§ Status Codes examples "JSON parsing failure" and "Invalid parameters" (a typo'd or
    missing {query}): "SHOULD result in status code 400", under both media types."""
    answer = await send(gw, data=body, accept=media, headers={"Content-Type": JSON})
    assert (answer.status, answer.media_type) == (400, media)
    assert codes(answer) == ["BAD_REQUEST"]


# --- Status codes: application/json -----------------------------------------------------------

REQUEST_ERRORS = [
    pytest.param({"query": "{"}, "GRAPHQL_PARSE_FAILED", id="document-parsing-failure"),
    pytest.param({"query": UNKNOWN_FIELD}, "GRAPHQL_VALIDATION_FAILED", id="validation-failure"),
    pytest.param(
        {"query": "query A { __typename }", "operationName": "B"},
        "BAD_REQUEST",
        id="operation-cannot-be-determined",
    ),
    pytest.param(
        {"query": "query A { __typename } query B { __typename }"},
        "BAD_REQUEST",
        id="operation-name-missing",
    ),
    pytest.param(
        {"query": COERCION, "variables": {"name": None}},
        "INVALID_INPUT",
        id="variable-coercion-failure",
    ),
    pytest.param({"query": TOO_MANY_ALIASES}, "QUERY_TOO_COMPLEX", id="additional-rule"),
]


@pytest.mark.parametrize(("payload", "code"), REQUEST_ERRORS)
async def test_status_application_json_request_errors_are_200(
    gw: RunningGateway, payload: dict[str, Any], code: str
) -> None:
    """§ Status Codes, application/json: "The server SHOULD use the 200 status code for every
    response to a well-formed GraphQL-over-HTTP request, independent of any GraphQL request
    error" (document parsing failure, validation failure, operation cannot be determined,
    variable coercion failure: each "SHOULD return a status code of 200")."""
    answer = await send(gw, payload=payload, accept=JSON)
    assert (answer.status, answer.media_type) == (200, JSON)
    assert answer.body["data"] is None and codes(answer) == [code]


@pytest.mark.parametrize(("payload", "code"), REQUEST_ERRORS)
async def test_status_graphql_response_json_request_errors_are_400_without_data(
    gw: RunningGateway, payload: dict[str, Any], code: str
) -> None:
    """§ Status Codes, application/graphql-response+json: "If the GraphQL response does not
    contain the {data} entry then the server MUST reply with a 4xx or 5xx status code"; a
    request that "does not pass validation ... SHOULD reply with 400"; the examples: document
    parsing failure, validation failure, operation cannot be determined, variable coercion
    failure: 400. Nothing ran, so there is no {data} entry (GraphQL spec, Response Format)."""
    answer = await send(gw, payload=payload, accept=GR)
    assert (answer.status, answer.media_type) == (400, GR)
    assert "data" not in answer.body and codes(answer) == [code]


@BOTH
async def test_status_field_errors_during_execution_are_200(gw: RunningGateway, media: str) -> None:
    """§ Status Codes (both media types), "Field errors encountered during execution": "SHOULD
    respond with a status code of 200"; application/graphql-response+json: "If the GraphQL
    response contains the {data} entry and it is not null, then the server MUST reply with a 2xx
    status code"."""
    answer = await send(gw, payload={"query": "{ __typename me { nationalCode } }"}, accept=media)
    assert (answer.status, answer.media_type) == (200, media)
    assert answer.body["data"] == {"__typename": "Query", "me": None}
    assert codes(answer) == ["UNAUTHENTICATED"]
    assert answer.body["errors"][0]["path"] == ["me"]


async def test_status_graphql_response_json_null_data_is_2xx(gw: RunningGateway) -> None:
    """§ Status Codes, application/graphql-response+json: "If the GraphQL response contains the
    {data} entry and it is {null}, then the server SHOULD reply with a 2xx status code and it is
    RECOMMENDED it replies with 200" (a field error at a non-null root field)."""
    answer = await send(gw, payload={"query": FORCE}, accept=GR)
    assert (answer.status, answer.media_type) == (200, GR)
    assert answer.body["data"] is None and codes(answer) == ["UNAUTHENTICATED"]


@BOTH
async def test_url_not_permitted_is_401_in_the_media_type(gw: RunningGateway, media: str) -> None:
    """§ URL: a server forbidding a request (e.g. to require authentication) "SHOULD use the
    relevant 4xx"; application/graphql-response+json: "If the client is not permitted to issue
    the GraphQL request then the server SHOULD reply with 403, 401 or similar"."""
    answer = await send(
        gw,
        payload={"query": TYPENAME},
        accept=media,
        headers={"Authorization": "Bearer not-a-token"},
    )
    assert (answer.status, answer.media_type) == (401, media)
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert codes(answer) == ["UNAUTHENTICATED"]


async def test_status_persisted_query_refusal_follows_the_media_type(gw: RunningGateway) -> None:
    """§ Status Codes applied to a persisted-query hash the gateway does not know: a request
    error. application/json keeps the 200 Apollo's link reads; application/graphql-response+json
    has no {data} entry, so 4xx."""
    unknown = {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}
    token = gw.token(PERSONAS["complete"])
    auth = {"Authorization": f"Bearer {token}"}
    legacy = await send(gw, payload={"extensions": unknown}, accept=JSON, headers=auth)
    assert legacy.status == 200 and codes(legacy) == ["PERSISTED_QUERY_NOT_FOUND"]
    modern = await send(gw, payload={"extensions": unknown}, accept=GR, headers=auth)
    assert modern.status == 400 and "data" not in modern.body
    assert codes(modern) == ["PERSISTED_QUERY_NOT_FOUND"]
    assert modern.headers["Cache-Control"] == "no-store"


@BOTH
async def test_get_answers_vary_on_accept(gw: RunningGateway, media: str) -> None:
    """RFC 9110 §12.5.5, for § Body's negotiation: a GET answer's media type depends on Accept,
    so a cache must know (Vary), next to Authorization."""
    answer = await send(gw, "GET", params={"query": TYPENAME}, accept=media)
    assert answer.status == 200
    assert answer.headers["Vary"] == "Authorization, Accept"


async def test_body_kept_answers_are_written_in_the_accepted_media_type(
    gw: RunningGateway,
) -> None:
    """§ Body holds for answers the response cache serves without running GraphQL: each in the
    media type its own request accepts."""
    token = gw.token(PERSONAS["complete"])
    auth = {"Authorization": f"Bearer {token}"}
    query = "{ me { profile { firstName } } }"
    hits = _cache_hits(gw)
    for media in (GR, JSON, GR):
        answer = await send(gw, payload={"query": query}, accept=media, headers=auth)
        assert (answer.status, answer.media_type, answer.charset) == (200, media, "utf-8")
        assert answer.body["data"]["me"]["profile"]["firstName"]
    assert _cache_hits(gw) == hits + 2


def _cache_hits(gw: RunningGateway) -> float:
    value = gw.app[METRICS].registry.get_sample_value(
        "panjereh_response_cache_total", {"result": "hit"}
    )
    return value or 0.0
