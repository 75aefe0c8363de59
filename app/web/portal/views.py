"""The debtor's self-service pages: open the link, verify, then pay, plan, promise or ask.

Nothing about the debt (amount, creditor reference, creditor details beyond what the SMS
already said) is shown before verification. The token appears only in the first request and
is redirected away at once; logs redact it (app/logs.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from functools import wraps
from typing import Any
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from app.clock import utcnow
from app.errors import DomainError
from app.models import CheckoutAttempt, Debtor, Instalment, PaymentPlan
from app.models.enums import CheckoutStatus, PlanFrequency, VerificationFactor
from app.providers import payment_gateway, payments_provider
from app.risk.requests import (
    DISPUTE_ANSWER_DAYS,
    DisputeReason,
    HardshipReason,
    ask_for_breathing_space,
    open_dispute,
    report_wrong_number,
)
from app.services.portal_links import (
    MAX_FAILURES,
    Verification,
    factor_for,
    find_link,
    is_locked,
    verify,
)
from app.web.codes import FREQUENCY_LABELS
from app.web.db import get_session, writes_on_read
from app.web.extensions import limiter
from app.web.i18n import error_text, local_date
from app.web.portal import session as portal
from app.web.portal.forms import (
    BreathingSpaceForm,
    DisputeForm,
    PlanForm,
    PromiseForm,
    VerifyForm,
)
from app.web.portal.methods import expiry_label, saved_method_label
from payments import arrangements, checkout
from payments.methods import expires_before_plan_ends, fill_in_method, last_charge_on
from payments.overview import AccountView, account_for, accounts_for, total_due
from payments.settlement import LIVE_PLAN

bp = Blueprint("portal", __name__, url_prefix="/p")

FACTOR_LABELS = {
    VerificationFactor.BIRTH_DATE: _l("Your date of birth"),
    VerificationFactor.POSTCODE: _l("Your postcode"),
    VerificationFactor.REFERENCE: _l("The invoice number"),
}
FACTOR_HINTS = {
    VerificationFactor.BIRTH_DATE: _l("For example 31-12-1980"),
    VerificationFactor.POSTCODE: _l("The postcode of your address"),
    VerificationFactor.REFERENCE: _l("You find it on the invoice"),
}


_OWN_PERSON_LINK = ("portal.talk_to_person", "portal.overview")


@bp.context_processor
def _talk_to_person() -> dict[str, str | None]:
    """Every verified page offers a person (the overview has its own link, the chat is it)."""
    shown = "portal_debtor" in g and request.endpoint not in _OWN_PERSON_LINK
    return {"talk_to_person_url": url_for("portal.talk_to_person") if shown else None}


@bp.context_processor
def _saved_methods() -> dict[str, Callable[[PaymentPlan], Any]]:
    return {
        "saved_method_label": saved_method_label,
        "card_expiry": expiry_label,
        "card_expires_too_soon": expires_before_plan_ends,
        "last_charge_on": last_charge_on,
    }


@bp.after_request
def _private(response: Response) -> Response:
    # Personal pages: never cached, never leaking the URL to another site.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _verify_limit() -> str:
    return str(current_app.config["PORTAL_VERIFY_RATE_LIMIT"])


def _link_key() -> str:
    link = portal.opened_link()
    return f"portal-link:{link.id if link else 'none'}"


def verified(
    view: Callable[..., ResponseReturnValue],
) -> Callable[..., ResponseReturnValue]:
    """Pass the verified debtor to the view; anyone else goes back to verification."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> ResponseReturnValue:
        debtor = portal.verified_debtor()
        if debtor is None:
            if portal.has_signed_out():
                return redirect(url_for("portal.signed_out"))
            if portal.opened_link() is None:
                return render_template("portal/expired.html"), 401
            return redirect(url_for("portal.verify_page"))
        g.portal_debtor = debtor
        return view(debtor, *args, **kwargs)

    return wrapper


# --- opening the link and verifying -------------------------------------------------------


@bp.get("/<token>")
@limiter.limit(_verify_limit)
def open_link(token: str) -> ResponseReturnValue:
    link = find_link(get_session(), token, now=utcnow())
    if link is None:
        return render_template("portal/expired.html"), 404
    debtor = get_session().get(Debtor, link.debtor_id)
    assert debtor is not None
    portal.begin(link, debtor, target=request.args.get("to"))
    return redirect(url_for("portal.verify_page"), 303)


@bp.get("/verify")
def verify_page() -> ResponseReturnValue:
    link = portal.opened_link()
    if link is None:
        return render_template("portal/expired.html"), 401
    return _verify_form(VerifyForm())


@bp.post("/verify")
@limiter.limit(_verify_limit)
@limiter.limit(_verify_limit, key_func=_link_key)
def verify_submit() -> ResponseReturnValue:
    link = portal.opened_link()
    if link is None:
        return render_template("portal/expired.html"), 401
    form = VerifyForm()
    if not form.validate_on_submit():
        return _verify_form(form), 400
    db = get_session()
    debtor = db.get(Debtor, link.debtor_id)
    assert debtor is not None
    result = verify(
        db,
        link,
        portal.creditor_of(debtor),
        debtor,
        form.answer.data or "",
        now=utcnow(),
    )
    db.commit()
    if result is Verification.VERIFIED:
        portal.mark_verified(link)
        landing = "portal.talk_to_person" if portal.target() == "chat" else None
        return redirect(url_for(landing or "portal.overview"), 303)
    if result is Verification.WRONG:
        left = MAX_FAILURES - link.failed_attempts
        form.answer.errors = [
            _("That does not match what we have. Please check and try again."),
            ngettext(
                "You can try %(num)d more time before the link locks for an hour.",
                "You can try %(num)d more times before the link locks for an hour.",
                left,
            ),
        ]
    return _verify_form(form), 400 if result is Verification.WRONG else 429


def _verify_form(form: VerifyForm) -> ResponseReturnValue:
    link = portal.opened_link()
    assert link is not None
    debtor = get_session().get(Debtor, link.debtor_id)
    assert debtor is not None
    factor = factor_for(portal.creditor_of(debtor), debtor)
    form.answer.label.text = str(FACTOR_LABELS[factor])
    return render_template(
        "portal/verify.html",
        form=form,
        hint=FACTOR_HINTS[factor],
        factor=factor.value,
        locked=is_locked(link, utcnow()),
        support_phone=portal.creditor_of(debtor).support_phone,
    )


@bp.post("/not-me")
def not_me() -> ResponseReturnValue:
    link = portal.opened_link()
    if link is None:
        return render_template("portal/expired.html"), 401
    VerifyForm(meta={"csrf": True}).validate_on_submit()  # CSRF only; no answer needed
    db = get_session()
    debtor = db.get(Debtor, link.debtor_id)
    assert debtor is not None
    report_wrong_number(db, debtor, now=utcnow())
    db.commit()
    portal.end()
    return render_template("portal/not_me.html")


@bp.post("/sign-out")
def sign_out() -> ResponseReturnValue:
    portal.end(signed_out=True)
    # Redirected, so Back never posts the sign-out (and its spent form token) again.
    return redirect(url_for("portal.signed_out"), 303)


@bp.get("/signed-out")
def signed_out() -> ResponseReturnValue:
    return render_template("portal/signed_out.html")


# --- the overview and what the debtor can do -----------------------------------------------


@bp.get("/")
@verified
def overview(debtor: Debtor) -> ResponseReturnValue:
    views = accounts_for(get_session(), debtor)
    now = utcnow()
    # What is paused (breathing space, an agent) is said, and not offered again.
    paused = {
        v.account.id: v.account.paused_until
        for v in views
        if v.account.paused_until and v.account.paused_until > now
    }
    payable = [
        v for v in views if v.balance_minor > 0 and v.account.status.value != "disputed"
    ]
    return render_template(
        "portal/overview.html",
        debtor=debtor,
        creditor=portal.creditor_of(debtor),
        views=views,
        total_minor=total_due(views),
        today=_today(debtor),
        frequency_labels=FREQUENCY_LABELS,
        paused=paused,
        can_act=bool(payable),
        all_paused=bool(payable) and all(v.account.id in paused for v in payable),
    )


@bp.post("/accounts/<int:account_id>/pay")
@verified
def pay(debtor: Debtor, account_id: int) -> ResponseReturnValue:
    view = _own_account(debtor, account_id)
    return _to_checkout(
        lambda db, target: checkout.pay_balance(
            db,
            payment_gateway(current_app),
            payments_provider(current_app),
            view.account,
            target,
            now=utcnow(),
        )
    )


@bp.get("/accounts/<int:account_id>/plan")
@verified
def plan_page(debtor: Debtor, account_id: int) -> ResponseReturnValue:
    # An agent's plan offer links here with its terms chosen.
    form = PlanForm(choice=request.args.get("choice"))
    return _plan_form(debtor, _own_account(debtor, account_id), form)


@bp.post("/accounts/<int:account_id>/plan")
@verified
def plan_submit(debtor: Debtor, account_id: int) -> ResponseReturnValue:
    view = _own_account(debtor, account_id)
    form = PlanForm()
    frequency, count = _parse_choice(form.choice.data)
    if not form.validate_on_submit() or frequency is None:
        form.choice.errors = [_("Choose one of the plans.")]
        return _plan_form(debtor, view, form), 400
    db = get_session()
    try:
        plan = arrangements.propose_plan(
            db, view.account, frequency, count, today=_today(debtor), now=utcnow()
        )
    except DomainError as error:
        db.rollback()
        flash(_("That plan is no longer available. Please choose again."), "error")
        current_app.logger.info("plan refused: %s", error)
        return redirect(url_for("portal.plan_page", account_id=account_id), 303)
    return _pay_instalment(plan, plan.instalments[0])


def _plan_form(
    debtor: Debtor, view: AccountView, form: PlanForm
) -> ResponseReturnValue:
    offers = arrangements.plan_offers(get_session(), view.account, _today(debtor))
    return render_template(
        "portal/plan.html",
        debtor=debtor,
        view=view,
        offers=offers,
        form=form,
        frequency_labels=FREQUENCY_LABELS,
    )


def _parse_choice(choice: str | None) -> tuple[PlanFrequency | None, int]:
    frequency, _sep, count = (choice or "").partition(":")
    if frequency not in PlanFrequency._value2member_map_ or not count.isdigit():
        return None, 0
    return PlanFrequency(frequency), int(count)


@bp.post("/instalments/<int:instalment_id>/pay")
@verified
def pay_instalment(debtor: Debtor, instalment_id: int) -> ResponseReturnValue:
    instalment = get_session().get(Instalment, instalment_id)
    plan = get_session().get(PaymentPlan, instalment.plan_id) if instalment else None
    if instalment is None or plan is None:
        abort(404)
    _own_account(debtor, plan.account_id)
    return _pay_instalment(plan, instalment)


@bp.get("/plans/<int:plan_id>/card")
@writes_on_read
@verified
def card_page(debtor: Debtor, plan_id: int) -> ResponseReturnValue:
    plan = get_session().get(PaymentPlan, plan_id)
    if plan is None or plan.status not in LIVE_PLAN:
        abort(404)
    _own_account(debtor, plan.account_id)
    # Details a webhook could not learn (the provider was unreachable) are asked for now.
    fill_in_method(payment_gateway(current_app), plan)
    get_session().commit()
    return render_template("portal/card.html", plan=plan)


@bp.post("/plans/<int:plan_id>/card")
@verified
def change_card(debtor: Debtor, plan_id: int) -> ResponseReturnValue:
    plan = get_session().get(PaymentPlan, plan_id)
    if plan is None:
        abort(404)
    _own_account(debtor, plan.account_id)
    return _to_checkout(
        lambda db, target: checkout.save_method(
            db,
            payment_gateway(current_app),
            payments_provider(current_app),
            plan,
            target,
            now=utcnow(),
        )
    )


def _pay_instalment(plan: PaymentPlan, instalment: Instalment) -> ResponseReturnValue:
    return _to_checkout(
        lambda db, target: checkout.pay_instalment(
            db,
            payment_gateway(current_app),
            payments_provider(current_app),
            plan,
            instalment,
            target,
            now=utcnow(),
        )
    )


def _to_checkout(
    start: Callable[[Any, checkout.CheckoutTarget], str],
) -> ResponseReturnValue:
    db = get_session()
    target = checkout.CheckoutTarget(
        success_url=_external("portal.checkout_return"),
        cancel_url=_external("portal.checkout_cancel"),
        locale=str(get_locale() or "en"),
    )
    try:
        url = start(db, target)
    except DomainError as error:
        db.rollback()
        flash(error_text(error), "error")
        return redirect(url_for("portal.overview"), 303)
    db.commit()
    return redirect(url, 303)


def _external(endpoint: str) -> str:
    """An absolute return URL with `{attempt}` left for the checkout to fill in."""
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    path = url_for(endpoint, attempt_id=0).replace("/0/", "/{attempt}/")
    return f"{base}{path}"


@bp.get("/checkout/<int:attempt_id>/done")
@verified
def checkout_return(debtor: Debtor, attempt_id: int) -> ResponseReturnValue:
    attempt = _own_attempt(debtor, attempt_id)
    return render_template(
        "portal/checkout_done.html",
        attempt=attempt,
        account=_own_account(debtor, attempt.account_id).account,
        confirmed=attempt.status is CheckoutStatus.COMPLETED,
    )


@bp.get("/checkout/<int:attempt_id>/cancelled")
@verified
def checkout_cancel(debtor: Debtor, attempt_id: int) -> ResponseReturnValue:
    return render_template(
        "portal/checkout_cancelled.html", attempt=_own_attempt(debtor, attempt_id)
    )


@bp.get("/accounts/<int:account_id>/promise")
@verified
def promise_page(debtor: Debtor, account_id: int) -> ResponseReturnValue:
    return _promise_form(debtor, _own_account(debtor, account_id), PromiseForm())


@bp.post("/accounts/<int:account_id>/promise")
@verified
def promise_submit(debtor: Debtor, account_id: int) -> ResponseReturnValue:
    view = _own_account(debtor, account_id)
    form = PromiseForm()
    if not form.validate_on_submit() or form.promised_on.data is None:
        return _promise_form(debtor, view, form), 400
    db = get_session()
    try:
        promise = arrangements.promise_to_pay(
            db, view.account, form.promised_on.data, today=_today(debtor), now=utcnow()
        )
    except DomainError:
        db.rollback()
        today = _today(debtor)
        latest = arrangements.promise_limit(db, view.account, today)
        form.promised_on.errors = [
            _(
                "Choose a date from %(first)s to %(last)s.",
                first=local_date(today + timedelta(days=1)),
                last=local_date(latest),
            )
        ]
        return _promise_form(debtor, view, form), 400
    db.commit()
    return render_template("portal/promise_done.html", promise=promise, view=view)


def _promise_form(
    debtor: Debtor, view: AccountView, form: PromiseForm
) -> ResponseReturnValue:
    today = _today(debtor)
    return render_template(
        "portal/promise.html",
        view=view,
        form=form,
        earliest=today + timedelta(days=1),
        latest=arrangements.promise_limit(get_session(), view.account, today),
    )


@bp.get("/accounts/<int:account_id>/dispute")
@verified
def dispute_page(debtor: Debtor, account_id: int) -> ResponseReturnValue:
    view = _own_account(debtor, account_id)
    return render_template("portal/dispute.html", view=view, form=DisputeForm())


@bp.post("/accounts/<int:account_id>/dispute")
@verified
def dispute_submit(debtor: Debtor, account_id: int) -> ResponseReturnValue:
    view = _own_account(debtor, account_id)
    form = DisputeForm()
    if not form.validate_on_submit():
        return render_template("portal/dispute.html", view=view, form=form), 400
    db = get_session()
    try:
        open_dispute(
            db,
            view.account,
            DisputeReason(form.reason.data),
            form.details.data or "",
            now=utcnow(),
        )
    except DomainError as error:
        db.rollback()
        flash(error_text(error), "error")
        return redirect(url_for("portal.overview"), 303)
    db.commit()
    return render_template(
        "portal/dispute_done.html",
        view=view,
        answer_by=_today(debtor) + timedelta(days=DISPUTE_ANSWER_DAYS + 2),
        creditor=portal.creditor_of(debtor),
    )


@bp.get("/breathing-space")
@verified
def breathing_space_page(debtor: Debtor) -> ResponseReturnValue:
    return _breathing_form(debtor, BreathingSpaceForm())


@bp.post("/breathing-space")
@verified
def breathing_space_submit(debtor: Debtor) -> ResponseReturnValue:
    form = BreathingSpaceForm()
    if not form.validate_on_submit():
        return _breathing_form(debtor, form), 400
    db = get_session()
    days = arrangements.rules_of(db, debtor.creditor_id).breathing_space_days
    ask_for_breathing_space(
        db,
        debtor,
        HardshipReason(form.reason.data or "other"),
        form.details.data or "",
        days=days,
        now=utcnow(),
    )
    db.commit()
    views = accounts_for(db, debtor)
    return render_template(
        "portal/breathing_space_done.html",
        until=_today(debtor) + timedelta(days=days),
        views=[v for v in views if v.can_arrange],
        creditor=portal.creditor_of(debtor),
    )


def _breathing_form(debtor: Debtor, form: BreathingSpaceForm) -> ResponseReturnValue:
    days = arrangements.rules_of(get_session(), debtor.creditor_id).breathing_space_days
    return render_template("portal/breathing_space.html", form=form, days=days)


# --- helpers -------------------------------------------------------------------------------


def _today(debtor: Debtor) -> date:
    """The debtor's date: plans and promises are chosen in the debtor's own calendar."""
    return utcnow().astimezone(ZoneInfo(debtor.timezone)).date()


def _own_account(debtor: Debtor, account_id: int) -> AccountView:
    view = account_for(get_session(), debtor, account_id)
    if view is None:
        abort(404)
    return view


def _own_attempt(debtor: Debtor, attempt_id: int) -> CheckoutAttempt:
    attempt = get_session().get(CheckoutAttempt, attempt_id)
    if attempt is None:
        abort(404)
    _own_account(debtor, attempt.account_id)
    return attempt
