"""Models: the protocol every provider implements, and the providers."""
