"""A tiny double-entry ledger: money, accounts, a journal and plain-text reports."""
