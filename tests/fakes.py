"""Test doubles at the adapter boundaries: they record calls and can be primed to fail."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from reminders.sms import OutgoingSms, SentSms, SmsLookupError, SmsSendError


@dataclass
class FakeSmsSender:
    sent: list[OutgoingSms] = field(default_factory=list)
    failures: list[SmsSendError] = field(default_factory=list)
    # What the provider holds for lookups, with when it took each: see `hold`.
    held: list[tuple[OutgoingSms, SentSms, datetime]] = field(default_factory=list)
    lookups: list[OutgoingSms] = field(default_factory=list)
    lookup_failures: list[SmsLookupError] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    def send(self, sms: OutgoingSms) -> SentSms:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(sms)
        return SentSms(provider_id=f"SMfake{next(self._ids):028d}", status="queued")

    def hold(
        self, to: str, body: str, taken_at: datetime, *, status: str, **details: Any
    ) -> SentSms:
        """Prime the provider with a text it took (whose answer we never got)."""
        held = SentSms(f"SMheld{next(self._ids):028d}", status, **details)
        self.held.append((OutgoingSms(to=to, body=body), held, taken_at))
        return held

    def find_sent(
        self, sms: OutgoingSms, *, created_from: datetime, created_until: datetime
    ) -> list[SentSms]:
        self.lookups.append(sms)
        if self.lookup_failures:
            raise self.lookup_failures.pop(0)
        return [
            held
            for taken, held, taken_at in self.held
            if (taken.to, taken.body) == (sms.to, sms.body)
            and created_from <= taken_at <= created_until
        ]

    def to(self, phone: str) -> list[str]:
        return [s.body for s in self.sent if s.to == phone]
