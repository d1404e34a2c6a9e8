"""The query limits as validation rules and parser options, the document cache, without sockets."""

from __future__ import annotations

import time
from typing import Any

import pytest
from graphql import GraphQLError, get_introspection_query, parse, validate

from domain.errors import QueryTooComplex
from schema.document_cache import DocumentCache
from schema.query_limits import QueryLimits, limit_rules
from schema.schema import build_schema
from tests.integration import queries as q

SCHEMA = build_schema()
GRAPHQL_SCHEMA = SCHEMA._schema
EVERY_TEST_QUERY = [q.ME, q.CITIZEN, q.PROFILE, q.BILLS, q.BILL_INQUIRY]
BILLS_AND_LICENSES = "bills { totalAmount items { kind amount } } licenses { items { number } }"


def limit_errors(query: str, limits: QueryLimits | None = None) -> list[GraphQLError]:
    return validate(GRAPHQL_SCHEMA, parse(query), limit_rules(limits or QueryLimits()))


def hit(query: str, limits: QueryLimits | None = None) -> tuple[str | None, int | None]:
    errors = limit_errors(query, limits)
    assert errors, "expected a limit to be hit"
    original = errors[0].original_error
    assert isinstance(original, QueryTooComplex)
    assert errors[0].extensions["code"] == "QUERY_TOO_COMPLEX"
    return original.limit, original.maximum


def cost_of(query: str, **limits: Any) -> int:
    """The smallest max_cost the query passes, by bisection over the rule itself."""
    low, high = 1, 10**7
    while low < high:
        middle = (low + high) // 2
        if limit_errors(query, QueryLimits(max_cost=middle, max_depth=100, **limits)):
            low = middle + 1
        else:
            high = middle
    return low


@pytest.mark.parametrize("query", EVERY_TEST_QUERY, ids=range(len(EVERY_TEST_QUERY)))
def test_every_query_the_tests_send_fits_with_room_to_spare(query: str) -> None:
    defaults = QueryLimits()
    third = QueryLimits(
        max_tokens=defaults.max_tokens // 3,
        max_depth=defaults.max_depth // 2,
        max_cost=defaults.max_cost // 3,
    )
    assert limit_errors(query, third) == []
    assert parse(query, max_tokens=third.max_tokens)


def test_graphiql_introspection_fits_in_development() -> None:
    assert limit_errors(get_introspection_query(descriptions=True)) == []


def test_depth_is_the_number_of_fields_on_the_longest_path() -> None:
    query = "{ me { records { tax { filings { year } } } } }"
    assert hit(query, QueryLimits(max_depth=4)) == ("depth", 4)
    assert limit_errors(query, QueryLimits(max_depth=5)) == []


def test_depth_counts_through_fragments() -> None:
    query = "{ me { ...R } } fragment R on Citizen { records { tax { filings { year } } } }"
    assert hit(query, QueryLimits(max_depth=4)) == ("depth", 4)


def test_aliases() -> None:
    query = "{ " + " ".join(f"a{i}: __typename" for i in range(31)) + " }"
    assert hit(query, QueryLimits(max_root_fields=100)) == ("aliases", 30)


def test_directives_per_field() -> None:
    query = "{ __typename " + "@skip(if: false) " * 5 + "}"
    assert hit(query) == ("directives", 4)


def test_root_fields_count_fragments() -> None:
    query = (
        "{ ...F ...G } fragment F on Query { " + "__typename " * 7 + "} "
        "fragment G on Query { me { nationalCode } agencies { id } __typename __typename }"
    )
    assert hit(query) == ("rootFields", 10)


def test_lists_multiply_and_agency_fields_cost_more() -> None:
    limits = QueryLimits()
    leafs = cost_of("{ me { nationalCode } }")
    agency = cost_of("{ me { profile { firstName } } }")
    assert agency - leafs == 1 + limits.agency_cost  # profile: one field, agency-backed
    one_item_field = cost_of("{ me { bills { items { kind } } } }")
    two_item_fields = cost_of("{ me { bills { items { kind amount } } } }")
    assert two_item_fields - one_item_field == limits.list_size  # items is a list
    bigger_lists = cost_of("{ me { bills { items { kind amount } } } }", list_size=20)
    assert bigger_lists > two_item_fields


def test_full_me_costs_a_fraction_of_the_limit() -> None:
    assert cost_of(q.ME) * 4 < QueryLimits().max_cost


def test_cost_refusal_names_the_limit() -> None:
    query = "{ " + " ".join(f"m{i}: me {{ {BILLS_AND_LICENSES} }}" for i in range(9)) + " }"
    assert hit(query, QueryLimits(max_cost=500)) == ("cost", 500)


def test_exponential_fragments_are_priced_once_each() -> None:
    fragments = " ".join(
        f"fragment F{i} on BillList {{ a: items {{ kind }} ...F{i + 1} ...F{i + 1} }}"
        for i in range(40)
    )
    query = "{ me { bills { ...F0 } } } " + fragments + " fragment F40 on BillList { complete }"
    started = time.perf_counter()
    errors = limit_errors(query, QueryLimits(max_aliases=100))
    assert time.perf_counter() - started < 1.0
    assert [e.original_error.limit for e in errors][:1] == ["cost"]  # type: ignore[union-attr]


def test_cyclic_fragments_do_not_hang_the_limits() -> None:
    query = "{ ...A } fragment A on Query { __typename ...B } fragment B on Query { ...A }"
    assert limit_errors(query) == []  # the specification's NoFragmentCycles rule refuses it


def test_a_fragment_chain_past_the_stack_is_refused_not_a_crash() -> None:
    """The token limit keeps such chains short; past it, graphql-core aborts validation."""
    chain = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} }}" for i in range(3000))
    query = "{ ...F0 } " + chain + " fragment F3000 on Query { __typename }"
    assert limit_errors(query)
    with pytest.raises(GraphQLError, match="more than 1000 tokens"):
        parse(query, max_tokens=QueryLimits().max_tokens)


def test_document_cache_is_bounded_by_entries_and_by_text() -> None:
    cache = DocumentCache(max_entries=3, max_bytes=100)
    document = parse("{ __typename }")
    for name in "abc":
        cache.put(name * 10, document)
    cache.get("a" * 10)  # most recently used now
    cache.put("d" * 10, document)
    assert cache.get("b" * 10) is None and cache.get("a" * 10) is document
    cache.put("e" * 90, document)
    assert cache.size_bytes <= 100 and cache.get("e" * 90) is document
    cache.put("f" * 101, document)  # larger than the whole budget: never kept
    assert cache.get("f" * 101) is None


async def test_only_valid_documents_are_cached() -> None:
    schema = build_schema()
    await schema.execute("{ billInqury { billId } }")  # invalid
    await schema.execute("{ " + "__typename " * 3000 + "}")  # too many tokens
    await schema.execute("{ __typename __typename")  # syntax error
    assert len(schema.document_cache) == 0
    result = await schema.execute("{ __typename }")
    assert result.errors is None and len(schema.document_cache) == 1


async def test_a_cached_document_skips_parsing_and_validation() -> None:
    """The speed-up DESIGN §9 measured for repeated documents is kept."""
    query = q.BILL_INQUIRY
    variables = {"billId": "7748317800142", "paymentId": "1770160"}
    cached = build_schema()
    uncached = build_schema(limits=QueryLimits(cache_entries=0))

    async def run(schema: Any) -> float:
        best = float("inf")
        for _ in range(5):
            started = time.perf_counter()
            for _ in range(20):
                await schema.execute(query, variable_values=variables)
            best = min(best, time.perf_counter() - started)
        return best

    assert await run(cached) < await run(uncached)


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ('{ billInquiry(billId: "1", paymentIdd: "2") { billId } }', None),
        ('mutation { setCircuit(agency: "tax", state: OPN) { appliedTo } }', None),
        ("{ ... on Qery { __typename } }", None),
        ("{ billInqury { billId } }", None),
        (
            "mutation M($s: CircuitOverride!) { "
            'setCircuit(agency: "tax", state: $s) { appliedTo } }',
            {"s": "OPN"},
        ),
    ],
    ids=["argument", "enum value", "type", "field", "enum value in variables"],
)
async def test_production_suggests_nothing(query: str, variables: dict[str, Any] | None) -> None:
    development = await build_schema().execute(query, variable_values=variables)
    assert any("Did you mean" in e.message for e in development.errors or [])
    production = await build_schema(production=True).execute(query, variable_values=variables)
    assert production.errors
    assert not any("Did you mean" in e.message for e in production.errors)
