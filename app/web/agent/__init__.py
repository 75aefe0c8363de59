"""The agent console: the chat queue, conversations with the debtor's whole story, actions,
the supervisor's desk and canned responses."""

from app.web.agent import desk as _desk  # noqa: F401  (registers the supervisor views)
from app.web.agent.views import bp

__all__ = ["bp"]
