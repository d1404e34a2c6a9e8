"""The board as HTML: worded in one language, then filled into `status.html`.

Jinja2 with autoescaping on for every template (and `StrictUndefined`, so a misspelt name fails
a test instead of rendering empty): every value reaches the page escaped unless it is marked
safe, and the only value marked safe is our own stylesheet. `string.Template` would leave each
substitution to be escaped by hand, and one forgotten `html.escape` would be an injection.

The stylesheet is inlined (one response, nothing else to fetch, works offline) and allowed by
its SHA-256 in the Content-Security-Policy, so the page needs no `'unsafe-inline'`; the page has
no script at all (it refreshes itself with `<meta http-equiv="refresh">`).
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path

import jinja2
from markupsafe import Markup

from observability.agency_health.model import AgencyState, AvailabilityBar, Incident
from observability.status_page.board import AgencyBoard, Board
from observability.status_page.words import Words

__all__ = ["CONTENT_SECURITY_POLICY", "render_page", "render_unavailable"]

_HERE = Path(__file__).parent
_CSS = (_HERE / "status.css").read_text(encoding="utf-8")
if "</" in _CSS:  # raw text inside <style>: this would end it early
    raise RuntimeError("status.css must not contain '</'")
_CSS_HASH = base64.b64encode(hashlib.sha256(_CSS.encode()).digest()).decode()

CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; style-src 'sha256-{_CSS_HASH}'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
"""Nothing from anywhere, but the page's own inline stylesheet."""

_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(_HERE),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_PAGE = _ENV.get_template("status.html")

_STATE_ICONS = {
    AgencyState.UP: "✓",
    AgencyState.DEGRADED: "!",
    AgencyState.DOWN: "✕",
    AgencyState.MAINTENANCE: "⚙",
}
"""A shape beside each state word, so that no state is told by colour alone."""

_STATE_ORDER = (AgencyState.DOWN, AgencyState.DEGRADED, AgencyState.MAINTENANCE)

OK_AT = 0.99
WARN_AT = 0.90


@dataclass(frozen=True, slots=True)
class Bar:
    level: str  # ok, warn, bad, none: colour and height
    maintenance: bool
    label: str


@dataclass(frozen=True, slots=True)
class IncidentLine:
    ongoing: bool
    worst: str  # DOWN or DEGRADED, for the style
    text: str
    failures: str | None


@dataclass(frozen=True, slots=True)
class Row:
    agency: str
    name: str
    state: str  # the enum value, for the style
    state_word: str
    icon: str
    since: str
    latency: str | None
    day: str
    week: str
    hours: list[Bar]
    days: list[Bar]
    maintenance_now: str | None
    maintenance_next: str | None
    incidents: list[IncidentLine]


@dataclass(frozen=True, slots=True)
class SummaryLine:
    """The agencies in one state other than UP, worst state first."""

    state: str
    icon: str
    word: str
    rows: list[Row]


def render_page(board: Board, words: Words, *, refresh_s: int) -> str:
    """The whole page for one language."""
    rows = [_row(agency, words, board.at) for agency in board.agencies]
    summary = _summary(rows, words)
    return _PAGE.render(
        w=words,
        t=words.text,
        css=Markup(_CSS),  # our own file, checked for "</" above
        rows=rows,
        summary=summary,
        worst=summary[0].state if summary else "up",
        updated=words.text["updated"].format(
            at=words.moment(board.at), every=words.number(refresh_s)
        ),
        refresh_s=refresh_s,
        legend=_legend(words),
    )


def render_unavailable(words: Words, *, refresh_s: int) -> str:
    """What a reader gets when the health book cannot be read and nothing was rendered yet."""
    return _ENV.get_template("unavailable.html").render(
        w=words, t=words.text, css=Markup(_CSS), refresh_s=refresh_s
    )


def _row(agency: AgencyBoard, words: Words, now: float) -> Row:
    snap = agency.snapshot
    name = agency.name.fa if words.lang == "fa" else agency.name.en
    return Row(
        agency=agency.name.agency,
        name=name,
        state=snap.state.value.lower(),
        state_word=words.states[snap.state],
        icon=_STATE_ICONS[snap.state],
        since=words.text["since"].format(at=_when(snap.since, now, words)),
        latency=None  # an agency that does not answer has no response time worth showing
        if snap.latency_p95 is None or not snap.state.up
        else words.text["latency"].format(value=words.milliseconds(snap.latency_p95)),
        day=words.ratio(agency.day.excluding_maintenance),
        week=words.ratio(agency.week.excluding_maintenance),
        hours=[_bar(b, words, hourly=True) for b in agency.hours],
        days=[_bar(b, words, hourly=False) for b in agency.days],
        maintenance_now=None
        if snap.maintenance is None
        else words.text["maintenance_now"].format(
            span=words.span(snap.maintenance.starts_at, snap.maintenance.ends_at)
        ),
        maintenance_next=None
        if snap.next_maintenance is None
        else words.text["maintenance_next"].format(
            span=words.span(snap.next_maintenance.starts_at, snap.next_maintenance.ends_at)
        ),
        incidents=[_incident(i, words, now) for i in agency.incidents],
    )


def _when(at: float, now: float, words: Words) -> str:
    """Today's times by the clock alone; older ones with their date."""
    return words.clock(at) if words.date(at) == words.date(now) else words.moment(at)


def _bar(bar: AvailabilityBar, words: Words, *, hourly: bool) -> Bar:
    ratio = bar.ratio
    if ratio is None:
        level = "none"
    elif ratio >= OK_AT:
        level = "ok"
    elif ratio >= WARN_AT:
        level = "warn"
    else:
        level = "bad"
    end = bar.starts_at + bar.seconds
    when = (
        words.text["span"].format(start=words.clock(bar.starts_at), end=words.clock(end))
        if hourly
        else words.day(bar.starts_at)
    )
    label = f"{when}: {words.ratio(ratio)}"
    if bar.maintenance:
        label += f" ({words.text['bar_maintenance']})"
    return Bar(level, bar.maintenance, label)


def _incident(incident: Incident, words: Words, now: float) -> IncidentLine:
    ongoing = incident.ended_at is None
    template = words.text["incident_open" if ongoing else "incident"]
    text = template.format(
        worst=words.states[incident.worst],
        start=_when(incident.started_at, now, words),
        duration=words.duration(incident.duration(now)),
    )
    counted = sorted(incident.failures.items(), key=lambda kv: (-kv[1], kv[0].value))
    failures = words.text["list_joiner"].join(
        words.text["failure_count"].format(kind=words.failures[kind], n=words.number(n))
        for kind, n in counted
        if n > 0
    )
    return IncidentLine(
        ongoing=ongoing,
        worst=incident.worst.value.lower(),
        text=text,
        failures=words.text["failed"].format(failures=failures) if failures else None,
    )


def _summary(rows: list[Row], words: Words) -> list[SummaryLine]:
    """One line per state other than UP, naming its agencies; empty when all are up."""
    lines = []
    for state in _STATE_ORDER:
        named = [r for r in rows if r.state == state.value.lower()]
        if named:
            lines.append(
                SummaryLine(named[0].state, _STATE_ICONS[state], words.states[state], named)
            )
    return lines


def _legend(words: Words) -> list[tuple[str, str]]:
    return [
        ("ok", words.text["legend_ok"]),
        ("warn", words.text["legend_warn"]),
        ("bad", words.text["legend_bad"]),
        ("none", words.text["legend_none"]),
        ("maint", words.text["legend_maintenance"]),
    ]
