"""Payments: gateway port and adapters, plans, instalments, ledger reconciliation."""
