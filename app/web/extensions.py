"""Flask extensions, created unbound here and bound to the app in `register_web`."""

from flask import session
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf import CSRFProtect

babel = Babel()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


class StaffLoginManager(LoginManager):
    """Session protection for staff sign-ins only.

    In "strong" mode Flask-Login treats any non-empty session without its `_id` as stolen and
    rewrites it; a debtor's portal session holds no staff sign-in, so every portal request
    would re-sign the cookie and clear a remember cookie that never existed.
    """

    def _session_protection_failed(self) -> bool:
        if "_user_id" not in session:
            return False
        return bool(super()._session_protection_failed())


login_manager = StaffLoginManager()
