"""Invoice import: files in, rows or row errors out, then debtors, accounts, ledger."""
