"""Reminder engine: sequences, contact policy, SMS texts and inbound replies."""
