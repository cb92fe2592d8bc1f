"""Chainlit entry point (the chat UI arrives with issue 3)."""
