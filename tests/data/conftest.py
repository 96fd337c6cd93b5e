"""Nothing under tests/data is a test of armbench: the folders are fixture repositories.

Their own tests run only inside those repositories (the breakage injector runs them there).
"""

collect_ignore_glob = ["*"]
