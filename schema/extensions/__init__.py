"""Strawberry schema extensions of the gateway, one concern per module."""
