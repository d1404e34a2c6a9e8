"""What a request must be before it reaches GraphQL: content type and parameter types."""

from __future__ import annotations

from typing import Any

import pytest

from domain.errors import BadRequest, UnsupportedMediaType
from schema import http_input


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json; charset=utf-8", "Application/JSON"]
)
def test_json_in_utf_8_is_accepted(content_type: str) -> None:
    http_input.check_content_type("POST", content_type)


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "",
        "text/plain",
        "application/jsonp",
        "application/graphql",
        "application/x-www-form-urlencoded",
        "application/json; charset=iso-8859-1",
    ],
)
def test_any_other_post_body_is_unsupported(content_type: str | None) -> None:
    with pytest.raises(UnsupportedMediaType):
        http_input.check_content_type("POST", content_type)


def test_get_carries_no_body_to_check() -> None:
    http_input.check_content_type("GET", None)


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"query": {"obj": "ect"}}, "`query` must be a string, not an object."),
        ({"query": 0}, "`query` must be a string, not a number."),
        ({"query": False}, "`query` must be a string, not a boolean."),
        ({"query": ["array"]}, "`query` must be a string, not an array."),
        ({"query": "{ a }", "operationName": 1}, "`operationName` must be a string, not a number."),
        ({"query": "{ a }", "variables": "{}"}, "`variables` must be an object, not a string."),
        ({"query": "{ a }", "variables": [7]}, "`variables` must be an object, not an array."),
        ({"query": "{ a }", "extensions": True}, "`extensions` must be an object, not a boolean."),
    ],
)
def test_a_parameter_of_the_wrong_type_is_refused_by_name(
    parameters: dict[str, Any], message: str
) -> None:
    with pytest.raises(BadRequest) as refused:
        http_input.check_parameters(parameters)
    assert refused.value.message == message


def test_null_stands_for_absent() -> None:
    http_input.check_parameters(
        {"query": "{ a }", "operationName": None, "variables": None, "extensions": None}
    )


def test_get_parameters_decode_json_and_drop_an_empty_operation_name() -> None:
    parameters = http_input.query_parameters(
        {"query": "{ a }", "variables": '{"x": 1}', "extensions": "", "operationName": ""}
    )
    assert parameters == {"query": "{ a }", "variables": {"x": 1}}


@pytest.mark.parametrize(
    ("name", "text"), [("variables", "{"), ("variables", "[1]"), ("extensions", '"x"')]
)
def test_get_json_parameters_must_be_objects(name: str, text: str) -> None:
    with pytest.raises(BadRequest) as refused:
        http_input.query_parameters({"query": "{ a }", name: text})
    assert f"`{name}`" in refused.value.message


def test_a_body_parameter_of_the_wrong_type_is_refused_while_decoding() -> None:
    with pytest.raises(BadRequest):
        http_input.decode_request(b'{"query": "{ a }", "variables": [7]}', batching=False)
