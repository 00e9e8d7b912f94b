"""A module that fails on import, as a company's half-configured guard package might."""

raise RuntimeError("ACME_HIRING_URL is not set")
