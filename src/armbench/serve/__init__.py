"""`armbench serve-sim`: the sim coder behind the real Anthropic and OpenAI wire formats.

Loopback HTTP servers that the official SDKs can talk to, with fault injection, so providers
and external agents can be tried offline over real HTTP.
"""

from armbench.serve.faults import FaultPlan, FaultRule, parse_fault
from armbench.serve.server import SimServer

__all__ = ["FaultPlan", "FaultRule", "SimServer", "parse_fault"]
