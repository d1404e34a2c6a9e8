"""Water, electricity, gas and fixed-line holdings of a citizen."""

from __future__ import annotations

import random

from sandbox.ids import SERVICE_ELECTRICITY, SERVICE_FIXED_PHONE, SERVICE_GAS, SERVICE_WATER
from sandbox.jalali import days_from_today
from sandbox.records import ElectricityBill, GasSubscription, Phone, WaterSubscription
from sandbox.synth.billing import digits, issue_bill, months_ago, rial_amount
from sandbox.vocabulary import City


def water(
    rng: random.Random, city: City, count: int, must_owe: bool
) -> tuple[WaterSubscription, ...]:
    """Each subscription lists its last 1–3 bills, newest first; older ones are mostly paid."""
    subscriptions = []
    for _ in range(count):
        number = digits(rng, 8)
        bills = []
        for age in range(rng.randint(1, 3)):
            unpaid = (age == 0 and (must_owe or rng.random() < 0.6)) or rng.random() < 0.15
            bills.append(
                issue_bill(
                    number,
                    city.company_code,
                    SERVICE_WATER,
                    amount=rial_amount(rng, 150_000, 2_500_000),
                    period=months_ago(age + 1),
                    due_date=days_from_today(rng.randint(5, 25) - 30 * age),
                    paid=not unpaid,
                )
            )
        subscriptions.append(WaterSubscription(number, tuple(bills)))
    return tuple(subscriptions)


def electricity(rng: random.Random, city: City, count: int) -> tuple[ElectricityBill, ...]:
    """Unpaid electricity bills, one per meter; the amount follows consumption."""
    items = []
    for _ in range(count):
        meter = digits(rng, 7)
        kwh = rng.randint(80, 650)
        amount = max(1000, kwh * rng.randint(1500, 9000) // 1000 * 1000)
        bill = issue_bill(
            meter,
            city.company_code,
            SERVICE_ELECTRICITY,
            amount=amount,
            period=months_ago(1),
            due_date=days_from_today(rng.randint(3, 20)),
        )
        items.append(ElectricityBill(meter, kwh, bill))
    return tuple(items)


def gas(rng: random.Random, city: City, count: int, must_owe: bool) -> tuple[GasSubscription, ...]:
    """Gas subscriptions; `last_bill` is None when nothing is owed."""
    items = []
    for _ in range(count):
        number = digits(rng, 8)
        owes = must_owe or rng.random() < 0.6
        bill = (
            issue_bill(
                number,
                city.company_code,
                SERVICE_GAS,
                amount=rial_amount(rng, 80_000, 4_000_000),
                period=months_ago(2),
                due_date=days_from_today(rng.randint(1, 30)),
            )
            if owes
            else None
        )
        items.append(GasSubscription(number, bill))
    return tuple(items)


def phones(rng: random.Random, city: City, count: int, must_owe: bool) -> tuple[Phone, ...]:
    """Fixed lines in the home city; the local number is the bill's file code."""
    items = []
    for _ in range(count):
        local = str(rng.randint(2, 8)) + digits(rng, 7)
        owes = must_owe or rng.random() < 0.55
        debt = (
            issue_bill(
                local,
                city.area_code,
                SERVICE_FIXED_PHONE,
                amount=rial_amount(rng, 20_000, 900_000),
                period=months_ago(1),
                due_date=days_from_today(rng.randint(2, 25)),
            )
            if owes
            else None
        )
        items.append(Phone(city.area_code + local, debt))
    return tuple(items)
