"""`armbench serve-sim`: the sim coder behind the real Anthropic and OpenAI wire formats; and
the metering gateway that external agents call instead of the real APIs.

Loopback HTTP servers that the official SDKs can talk to, with fault injection, so providers
and external agents can be tried offline over real HTTP. The gateway (`Gateway`) forwards an
external agent's calls to the real upstream with per-trial keys and records each as a ledger
row of its trial.
"""

from armbench.serve.faults import FaultPlan, FaultRule, parse_fault
from armbench.serve.gateway import Gateway
from armbench.serve.gateway_ledger import GatewayCall, Upstream
from armbench.serve.server import SimServer

__all__ = [
    "FaultPlan",
    "FaultRule",
    "Gateway",
    "GatewayCall",
    "SimServer",
    "Upstream",
    "parse_fault",
]
