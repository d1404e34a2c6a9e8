"""Simulated Iranian government agencies for Panjereh: real HTTP services on loopback.

Sixteen agencies, each with its own wire format (docs/agencies.md), synthetic citizens that are
deterministic per national code, and fault injection per agency. Shares no code with the
gateway: it plays the other side of the contract.
"""

from __future__ import annotations

from sandbox.agencies import AGENCY_IDS
from sandbox.faults import FaultMode, FaultSpec
from sandbox.people import PERSONAS, Person, person_for, sample_national_codes
from sandbox.runner import Sandbox, UnknownAgencyError

__all__ = [
    "AGENCY_IDS",
    "PERSONAS",
    "FaultMode",
    "FaultSpec",
    "Person",
    "Sandbox",
    "UnknownAgencyError",
    "person_for",
    "sample_national_codes",
]
