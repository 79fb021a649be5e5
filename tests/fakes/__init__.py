"""Local fakes of the external HTTP APIs Klantpet talks to (platforms, LLM).

Each fake is an ASGI app that speaks the documented protocol, records every call and can inject
rate limits and errors. ``serve()`` runs one on a free loopback port in a background thread.
"""
