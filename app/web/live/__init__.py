"""Live chat delivery for the web: the notifier chosen by configuration, Server-Sent Events,
and how a chat line reads in the viewer's language."""
