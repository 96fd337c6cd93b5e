"""The agent: its tools and the loop that lets a model use them."""
