"""The shared vocabulary every other package speaks; it imports nothing else of armbench.

Messages and usage in the six token kinds, roles and routes, trial statuses and infra classes,
the ledger, gate and trial records, limits, and the two text formats several layers read and
write (the file-block format and the bash tool's exit line), plus the small utilities all of
them need (tree fingerprints, seeds, secret redaction, validation messages).
"""

from armbench.core.exitline import TIMED_OUT, exit_line, exited_zero, trailing_exit_code
from armbench.core.fileblocks import (
    extract_lenient,
    extract_strict,
    file_names,
    has_run_line,
    prose_lines,
    render_answer,
)
from armbench.core.files import (
    IGNORED_DIRS,
    MAX_READ,
    copy_tree,
    fingerprint_tree,
    iter_files,
    read_regular,
    sha256_file,
)
from armbench.core.limits import (
    DEFAULT_COMMAND_LIMITS,
    DEFAULT_LIMITS,
    CommandLimits,
    EndpointLimits,
    Limits,
)
from armbench.core.messages import (
    SIMULATED_HEADER,
    SIMULATED_PROVIDERS,
    UNPARSED_ARGUMENTS,
    Block,
    CacheBreakpoint,
    Message,
    ModelRequest,
    ModelResponse,
    TextBlock,
    ToolResultBlock,
    ToolSpec,
    ToolUseBlock,
)
from armbench.core.outcomes import (
    FATAL,
    LIMIT_STOPS,
    RETRYABLE,
    CapStop,
    InfraClass,
    LimitReached,
    ModelError,
    StopReason,
    TrialStatus,
)
from armbench.core.pysource import parse_python
from armbench.core.records import CallRecord, GateResult, TrialRecord
from armbench.core.roles import ROLES, ROUTES, Role, Route
from armbench.core.secrets import (
    GATEWAY_KEY_PREFIX,
    MASK,
    SECRET_NAME,
    Redactor,
    looks_secret,
    process_environ,
    withdraw_secrets,
)
from armbench.core.seeds import derive_seed
from armbench.core.tokens import TOKEN_KINDS, TokenKind, Usage
from armbench.core.validation import format_validation_error
from armbench.core.version import VERSION

__all__ = [
    "DEFAULT_COMMAND_LIMITS",
    "DEFAULT_LIMITS",
    "FATAL",
    "GATEWAY_KEY_PREFIX",
    "IGNORED_DIRS",
    "LIMIT_STOPS",
    "MASK",
    "MAX_READ",
    "RETRYABLE",
    "ROLES",
    "ROUTES",
    "SECRET_NAME",
    "SIMULATED_HEADER",
    "SIMULATED_PROVIDERS",
    "TIMED_OUT",
    "TOKEN_KINDS",
    "UNPARSED_ARGUMENTS",
    "VERSION",
    "Block",
    "CacheBreakpoint",
    "CallRecord",
    "CapStop",
    "CommandLimits",
    "EndpointLimits",
    "GateResult",
    "InfraClass",
    "LimitReached",
    "Limits",
    "Message",
    "ModelError",
    "ModelRequest",
    "ModelResponse",
    "Redactor",
    "Role",
    "Route",
    "StopReason",
    "TextBlock",
    "TokenKind",
    "ToolResultBlock",
    "ToolSpec",
    "ToolUseBlock",
    "TrialRecord",
    "TrialStatus",
    "Usage",
    "copy_tree",
    "derive_seed",
    "exit_line",
    "exited_zero",
    "extract_lenient",
    "extract_strict",
    "file_names",
    "fingerprint_tree",
    "format_validation_error",
    "has_run_line",
    "iter_files",
    "looks_secret",
    "parse_python",
    "process_environ",
    "prose_lines",
    "read_regular",
    "render_answer",
    "sha256_file",
    "trailing_exit_code",
    "withdraw_secrets",
]
