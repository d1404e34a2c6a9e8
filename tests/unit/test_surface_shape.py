"""The GraphQL surface's shape: one definition per record, layers that point one way, and no
resolver, task or extension on any field below an agency answer."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pytest
from graphql import GraphQLObjectType, get_named_type
from pydantic import TypeAdapter

from domain import models as m
from domain.calendar import Day
from domain.sourced import Source, Sourced
from schema.schema import build_schema

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = build_schema()
GRAPHQL = SCHEMA._schema

RECORDS = {
    "Profile": m.Person,
    "Address": m.Address,
    "MobileCheck": m.MobileCheck,
    "Bill": m.Bill,
    "License": m.License,
    "SocialSecurity": m.SocialSecurityRecord,
    "HealthCoverage": m.HealthCoverage,
    "MilitaryService": m.MilitaryServiceRecord,
    "TaxStatus": m.TaxRecord,
    "Vehicle": m.Vehicle,
    "EducationRecord": m.EducationRecord,
    "Employer": m.Employer,
    "JudicialNotice": m.JudicialNotice,
    "TaxFiling": m.TaxFiling,
    "Deed": m.Deed,
    "PropertyShare": m.PropertyShare,
}
RENAMED = {("Bill", "amount_rial"): "amount"}
LEFT_OUT = {("TaxStatus", "debts")}  # debts are bills: they are listed under `bills`
COMPUTED = {
    "MobileCheck": {"matches"},
    "JudicialNotices": {"unreadCount"},
    "PropertyShare": {"dang"},
}
RESOLVED = {("JudicialNotices", "unreadCount"), ("SourceStatus", "error")}
"""The only fields below an agency-backed field that run a resolver of ours: both computed once
per list or part, not per item."""


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


@pytest.mark.parametrize("type_name", sorted(RECORDS))
def test_each_record_type_is_its_domain_model(type_name: str) -> None:
    model = RECORDS[type_name]
    expected = {
        RENAMED.get((type_name, name), _camel(name))
        for name in model.model_fields
        if (type_name, name) not in LEFT_OUT
    } | COMPUTED.get(type_name, set())
    graphql_type = GRAPHQL.type_map[type_name]
    assert isinstance(graphql_type, GraphQLObjectType)
    fields = set(graphql_type.fields) - {"source"}
    assert fields == expected


def _below_agency_fields() -> set[GraphQLObjectType]:
    """Every object type reachable from an agency-backed field of `Citizen` or `Records`."""
    seen: set[GraphQLObjectType] = set()
    stack = []
    for parent in ("Citizen", "Records"):
        for field in GRAPHQL.type_map[parent].fields.values():
            named = get_named_type(field.type)
            if named.name != "Records":
                stack.append(named)
    while stack:
        graphql_type = stack.pop()
        if not isinstance(graphql_type, GraphQLObjectType) or graphql_type in seen:
            continue
        seen.add(graphql_type)
        stack.extend(get_named_type(f.type) for f in graphql_type.fields.values())
    return seen


def test_fields_below_an_agency_answer_are_plain_attributes() -> None:
    below = _below_agency_fields()
    assert {"Profile", "Bill", "CalendarDate", "SourceInfo", "SourceStatus"} <= {
        t.name for t in below
    }
    for graphql_type in below:
        for name, field in graphql_type.fields.items():
            definition = field.extensions["strawberry-definition"]
            if (graphql_type.name, name) in RESOLVED:
                assert not definition.is_async and not definition.extensions
                continue
            assert definition.is_basic_field, f"{graphql_type.name}.{name} runs a resolver"


def test_agency_fields_are_async_and_guarded() -> None:
    citizen, records = GRAPHQL.type_map["Citizen"], GRAPHQL.type_map["Records"]
    # `sources` asks no agency of its own: it waits on the lookups of the fields beside it
    plain = ("nationalCode", "records", "sources")
    agency_fields = [f for n, f in citizen.fields.items() if n not in plain]
    agency_fields += list(records.fields.values())
    for field in agency_fields:
        definition = field.extensions["strawberry-definition"]
        assert definition.is_async
        assert definition.extensions, "an agency-backed field must carry its level's permission"


def test_resolvers_and_domain_import_no_schema_module() -> None:
    for folder in ("resolvers", "domain"):
        for path in (ROOT / folder).glob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                names: list[str] = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module]
                for name in names:
                    assert not name.startswith("schema"), f"{path.name} imports {name}"


def test_a_day_is_a_date_that_knows_its_jalali_form() -> None:
    bill = m.Bill(
        kind=m.BillKind.WATER,
        bill_id="1",
        payment_id="2",
        amount_rial=5,
        due_date=dt.date(2024, 3, 20),
    )
    assert isinstance(bill.due_date, Day)
    assert bill.due_date == dt.date(2024, 3, 20)
    assert bill.due_date.jalali == "1403/01/01"
    assert bill.due_date.iso.isoformat() == "2024-03-20"
    adapter = TypeAdapter(m.Bill)
    again = adapter.validate_json(adapter.dump_json(bill))
    assert again == bill and isinstance(again.due_date, Day)
    assert b'"due_date":"2024-03-20"' in adapter.dump_json(bill)


def test_sourced_reads_fields_properties_and_source() -> None:
    source = Source("shahkar", dt.datetime.now(dt.UTC) - dt.timedelta(seconds=42))
    check = Sourced(m.MobileCheck(mobile="09121234567", result=m.MobileMatch.MATCH), source)
    assert check.mobile == "09121234567" and check.matches is True
    assert check.source is source and 42 <= check.source.age <= 43
    listed = Sourced([m.TaxFiling(year=1402, status="FILED")], source)
    assert [f.year for f in listed.items] == [1402]
