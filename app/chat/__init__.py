"""Live chat between a debtor who asked for a person and an agent (no Flask here).

`conversations` stores and numbers messages, `actions` is what the debtor and agent say,
`assignment` who answers, `account_actions` what the agent does for the debtor, `console` what
the console shows, `canned` canned responses, `hours` opening hours and business time,
`notifier` and `live` the live delivery.
"""
