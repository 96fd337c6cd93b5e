"""armbench's own version, as its installed metadata says (recorded in every manifest)."""

from importlib.metadata import PackageNotFoundError, version

try:
    VERSION = version("armbench")
except PackageNotFoundError:  # running from a source tree without an install
    VERSION = "0.0.0+unknown"
