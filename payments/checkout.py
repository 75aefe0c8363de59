"""Sending the debtor to a hosted checkout: pay the balance, start a plan, or save a card."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from app.errors import N_, ValidationFailed
from app.models import (
    Account,
    CheckoutAttempt,
    Creditor,
    Debtor,
    Instalment,
    PaymentPlan,
)
from app.models.enums import CheckoutPurpose, InstalmentStatus
from app.services.ledger import balance_of
from payments.gateway import CheckoutMode, CheckoutRequest, PaymentGateway

_SAVES_METHOD = (CheckoutPurpose.START_PLAN, CheckoutPurpose.PAY_INSTALMENT)
_PAYABLE_INSTALMENT = (
    InstalmentStatus.SCHEDULED,
    InstalmentStatus.FAILED,
    InstalmentStatus.REQUIRES_ACTION,
)


@dataclass(frozen=True)
class CheckoutTarget:
    """Where the provider sends the debtor back; `{attempt}` becomes the attempt's id."""

    success_url: str
    cancel_url: str
    locale: str


def pay_balance(
    session: Session,
    gateway: PaymentGateway,
    provider: str,
    account: Account,
    target: CheckoutTarget,
    *,
    now: datetime,
) -> str:
    """A checkout for the whole open balance; returns the URL to send the debtor to.

    :raises ValidationFailed: nothing is owed on the account.
    """
    balance = balance_of(session, account.id)
    if balance <= 0:
        raise ValidationFailed(N_("Nothing is owed on this account"))
    attempt = _attempt(account, CheckoutPurpose.PAY_BALANCE, balance, provider, now)
    return _open(session, gateway, attempt, account, target, mode=CheckoutMode.PAYMENT)


def pay_instalment(
    session: Session,
    gateway: PaymentGateway,
    provider: str,
    plan: PaymentPlan,
    instalment: Instalment,
    target: CheckoutTarget,
    *,
    now: datetime,
) -> str:
    """Pay one instalment with the debtor present (the first, or one the bank held back).

    The card used is kept for the plan's later instalments.
    """
    if instalment.plan_id != plan.id or instalment.status not in _PAYABLE_INSTALMENT:
        raise ValidationFailed(N_("This instalment cannot be paid now"))
    account = _account(session, plan.account_id)
    purpose = (
        CheckoutPurpose.START_PLAN
        if instalment.seq_no == 1
        else CheckoutPurpose.PAY_INSTALMENT
    )
    attempt = _attempt(account, purpose, instalment.amount_minor, provider, now)
    attempt.plan_id, attempt.instalment_id = plan.id, instalment.id
    return _open(session, gateway, attempt, account, target, mode=CheckoutMode.PAYMENT)


def save_method(
    session: Session,
    gateway: PaymentGateway,
    provider: str,
    plan: PaymentPlan,
    target: CheckoutTarget,
    *,
    now: datetime,
) -> str:
    """Save (or replace) the card a plan's instalments are charged to."""
    account = _account(session, plan.account_id)
    attempt = _attempt(account, CheckoutPurpose.SAVE_METHOD, None, provider, now)
    attempt.plan_id = plan.id
    return _open(session, gateway, attempt, account, target, mode=CheckoutMode.SETUP)


def _attempt(
    account: Account,
    purpose: CheckoutPurpose,
    amount_minor: int | None,
    provider: str,
    now: datetime,
) -> CheckoutAttempt:
    return CheckoutAttempt(
        account_id=account.id,
        purpose=purpose,
        amount_minor=amount_minor,
        currency=account.currency,
        provider=provider,
        created_at=now,
    )


def _open(
    session: Session,
    gateway: PaymentGateway,
    attempt: CheckoutAttempt,
    account: Account,
    target: CheckoutTarget,
    *,
    mode: CheckoutMode,
) -> str:
    session.add(attempt)
    session.flush()
    debtor = session.get(Debtor, account.debtor_id)
    creditor = session.get(Creditor, account.creditor_id)
    assert debtor is not None
    assert creditor is not None
    metadata = {"attempt_id": str(attempt.id), "account_id": str(account.id)}
    if attempt.instalment_id is not None:
        metadata["instalment_id"] = str(attempt.instalment_id)
    checkout = gateway.create_checkout(
        CheckoutRequest(
            mode=mode,
            currency=account.currency,
            description=f"{creditor.name} · {account.external_reference}",
            success_url=target.success_url.replace("{attempt}", str(attempt.id)),
            cancel_url=target.cancel_url.replace("{attempt}", str(attempt.id)),
            idempotency_key=f"venlig-checkout-{attempt.id}",
            country=creditor.country,
            locale=target.locale,
            amount_minor=attempt.amount_minor,
            save_payment_method=attempt.purpose in _SAVES_METHOD,
            customer_ref=_customer_of(session, attempt),
            customer_name=debtor.name,
            customer_email=debtor.email,
            metadata=metadata,
        )
    )
    attempt.provider_session_id = checkout.provider_id
    return checkout.url


def _customer_of(session: Session, attempt: CheckoutAttempt) -> str | None:
    plan = session.get(PaymentPlan, attempt.plan_id) if attempt.plan_id else None
    return plan.customer_ref if plan is not None else None


def _account(session: Session, account_id: int) -> Account:
    account = session.get(Account, account_id)
    assert account is not None
    return account
