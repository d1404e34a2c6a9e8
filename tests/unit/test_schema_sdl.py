"""The committed SDL is what the code builds; regenerate with `python server.py export-schema`."""

from __future__ import annotations

from schema.export import render_sdl
from schema.schema import SDL_PATH


def test_committed_sdl_matches_the_code() -> None:
    committed = SDL_PATH.read_text(encoding="utf-8") if SDL_PATH.exists() else ""
    assert render_sdl() == committed, (
        "schema/schema.graphql is out of date: run `python server.py export-schema` and commit it"
    )


def test_rial_amounts_are_a_custom_scalar() -> None:
    sdl = render_sdl()
    assert "scalar Rial" in sdl
    assert "amount: Rial!" in sdl
