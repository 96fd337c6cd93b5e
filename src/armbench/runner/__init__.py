"""Executing runs: plan the trials, run each in its own workspace, record them."""
