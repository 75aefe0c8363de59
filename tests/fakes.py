"""Test doubles at the adapter boundaries: they record calls and can be primed to fail."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from reminders.sms import OutgoingSms, SentSms, SmsSendError


@dataclass
class FakeSmsSender:
    sent: list[OutgoingSms] = field(default_factory=list)
    failures: list[SmsSendError] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    def send(self, sms: OutgoingSms) -> SentSms:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(sms)
        return SentSms(provider_id=f"SMfake{next(self._ids):028d}", status="queued")

    def to(self, phone: str) -> list[str]:
        return [s.body for s in self.sent if s.to == phone]
