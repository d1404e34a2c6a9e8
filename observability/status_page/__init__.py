"""The public status page at `/status`: every agency's state, availability and recent incidents,
in Persian (default) or English, for anyone, with nothing but agency health on it.

    board   read the HealthBook into one language-neutral board (board.py)
    words   Persian and English words, digits, Tehran times, Jalali dates (words.py)
    render  the board worded and filled into the templates, escaped by default (render.py)
    page    kept rendered bytes per language, single-flight renders, the aiohttp route (page.py)
"""

from observability.status_page.board import AgencyName, agency_names
from observability.status_page.page import StatusPage, status_routes
from observability.status_page.settings import StatusPageSettings

__all__ = ["AgencyName", "StatusPage", "StatusPageSettings", "agency_names", "status_routes"]
