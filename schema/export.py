"""Write the schema's SDL to the committed file that front-end teams generate types from."""

from __future__ import annotations

import sys
from pathlib import Path

from strawberry.printer import print_schema

from schema.schema import SDL_PATH, build_schema

__all__ = ["export_sdl", "render_sdl"]


def render_sdl() -> str:
    return print_schema(build_schema()) + "\n"


def export_sdl(path: str | Path = SDL_PATH) -> None:
    Path(path).write_text(render_sdl(), encoding="utf-8")


if __name__ == "__main__":
    export_sdl(sys.argv[1] if len(sys.argv) > 1 else SDL_PATH)
