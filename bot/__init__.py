"""Klantpet: a chat bot that nudges a customer-centric culture inside organisations."""

__version__ = "0.1.0"
