"""Flask-Login wiring and the role guard used by staff views."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, abort
from flask_babel import lazy_gettext as _l
from flask_login import UserMixin, current_user, login_required

from app.models import User
from app.models.enums import Role
from app.services.users import find_user_by_login_id
from app.web.db import get_session
from app.web.extensions import login_manager

F = TypeVar("F", bound=Callable[..., Any])


class StaffLogin(UserMixin):
    """Flask-Login's view of a staff user; the id carries the session token."""

    def __init__(self, user: User) -> None:
        self.user = user

    def get_id(self) -> str:
        return f"{self.user.id}:{self.user.session_token}"


def init_login(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
    login_manager.user_loader(_load_user)


def _load_user(login_id: str) -> StaffLogin | None:
    user = find_user_by_login_id(get_session(), login_id)
    return StaffLogin(user) if user else None


def current_staff() -> User:
    """The signed-in staff user's model (views behind `roles_required` only)."""
    staff: User = current_user.user
    return staff


def roles_required(*roles: Role) -> Callable[[F], F]:
    """Signed in, and one of `roles`; others get 403."""

    def decorator(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_staff().role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


ALL_STAFF = (Role.ADMIN, Role.SUPERVISOR, Role.AGENT, Role.CREDITOR)
