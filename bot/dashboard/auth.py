"""Dashboard sign-in and sessions (OWASP ASVS L2): one-time links, admin-set passwords, CSRF on every form.

Sessions live server-side (only a SHA-256 of the cookie value is stored); the cookie is HttpOnly, SameSite=Lax
and Secure behind https (then with the ``__Host-`` prefix); a session ends after 30 minutes idle or 12 hours.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Depends, Request, Response
from sqlalchemy.exc import IntegrityError

from bot.signing import Signer
from storage.models import Member, Role
from storage.repositories import Repos

if TYPE_CHECKING:
    from bot.app import Services

IDLE = timedelta(minutes=30)
ABSOLUTE = timedelta(hours=12)
LINK_MINUTES = 15
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
hasher = PasswordHasher()
# Verified when a login is unknown, so a wrong username takes as long as a wrong password.
_DUMMY_HASH = hasher.hash("klantpet-no-such-login")


class SignInRequired(Exception):
    """No valid session: the browser is sent to the sign-in page."""


class CsrfRefused(Exception):
    """A state-changing request without the right CSRF token: a polite page, nothing changes."""


class PasswordRefused(ValueError):
    """The password fallback was not set; the message says why (shown on the command line)."""


class Forbidden(Exception):
    """Signed in, but the member's role does not allow this page."""

    def __init__(self, role: Role) -> None:
        super().__init__(role.value)
        self.role = role


@dataclass
class Viewer:
    """The signed-in member of a dashboard request."""

    member: Member
    csrf_token: str
    locale: str


def _verify(password_hash: str, password: str) -> bool:
    try:
        return bool(hasher.verify(password_hash, password))
    except (VerificationError, InvalidHashError):
        return False


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def same_token(sent: str | None, expected: str) -> bool:
    """Constant-time comparison that treats any odd value (non-ASCII too) as simply wrong."""
    return bool(sent) and hmac.compare_digest(str(sent).encode(), expected.encode())


def normal_login(login: str) -> str:
    """A login as stored and looked up: Unicode-normalised, trimmed, lower case ("Chloe " is "chloe")."""
    return unicodedata.normalize("NFKC", login).strip().lower()


class DashboardAuth:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.links = Signer(services.secret_key, "dashboard-link", services.clock)
        self.secure = (services.settings.public_url or "").startswith("https://")
        self.cookie = "__Host-klantpet_admin" if self.secure else "klantpet_admin"

    # --- Links and passwords ---------------------------------------------------------------------
    def link(self, base_url: str, member_id: int) -> str:
        token = self.links.sign({"member": member_id, "nonce": uuid.uuid4().hex}, LINK_MINUTES * 60)
        return f"{base_url}/admin/login/link?token={token}"

    async def use_link(self, token: str) -> int | None:
        """The member id of a valid, unused link (it works once)."""
        value = self.links.unsign(token)
        if not isinstance(value, dict):
            return None
        async with self.services.database.transaction() as session:
            if not await Repos(session).events.first_time(
                "dashboard-link", str(value.get("nonce")), self.services.clock.now()
            ):
                return None
        return int(value["member"])

    async def set_password(
        self, member: Member, login: str, password: str, *, actor: int | None = None, **detail: str
    ) -> str:
        """Set ``member``'s password fallback, end their sessions and audit it, all in one transaction.

        Everything is checked before anything is written; `PasswordRefused` says what was wrong. Returns the
        login as stored (normalised: another member's "Chloe" and "chloe" are the same login).
        """
        wanted = normal_login(login)
        if not wanted or len(wanted) > 200 or any(character.isspace() for character in wanted):
            raise PasswordRefused("a login needs 1 to 200 characters and no spaces")
        if len(password) < 12:
            raise PasswordRefused("a password needs at least 12 characters")
        password_hash = await asyncio.to_thread(hasher.hash, password)
        taken = PasswordRefused(f"the login {wanted!r} belongs to another member already; choose another")
        now = self.services.clock.now()
        try:
            async with self.services.database.transaction() as session:
                repos = Repos(session)
                holder = await repos.dashboard.password_for_login(wanted)
                if holder is not None and holder.member_id != member.id:
                    raise taken
                await repos.dashboard.set_password(member.id, wanted, password_hash, now)
                await repos.dashboard.close_sessions_of(member.id)
                await repos.audit.record(
                    actor, "dashboard.password_set", f"member:{member.id}", at=now, **detail
                )
        except IntegrityError:  # the same login set for someone else at the same moment
            raise taken from None
        return wanted

    async def check_password(self, login: str, password: str) -> int | None:
        """The member id when ``password`` is right; failures are counted and throttle further tries."""
        now = self.services.clock.now()
        login_hash = _hash(normal_login(login))
        async with self.services.database.transaction() as session:
            repo = Repos(session).dashboard
            if await repo.failures_since(login_hash, now - FAILURE_WINDOW) >= MAX_FAILURES:
                return None
            stored = await repo.password_for_login(normal_login(login))
        if (
            await asyncio.to_thread(_verify, stored.password_hash if stored else _DUMMY_HASH, password)
            and stored
        ):
            return stored.member_id
        async with self.services.database.transaction() as session:
            await Repos(session).dashboard.record_failure(login_hash, now)
        return None

    # --- Sessions -------------------------------------------------------------------------------
    async def open(self, response: Response, member_id: int) -> None:
        token = secrets.token_urlsafe(32)
        async with self.services.database.transaction() as session:
            await Repos(session).dashboard.open_session(
                _hash(token), member_id, secrets.token_urlsafe(32), self.services.clock.now()
            )
        response.set_cookie(
            self.cookie,
            token,
            httponly=True,
            secure=self.secure,
            samesite="lax",
            path="/",
            max_age=int(ABSOLUTE.total_seconds()),
        )

    async def close(self, request: Request, response: Response) -> None:
        token = request.cookies.get(self.cookie)
        if token:
            async with self.services.database.transaction() as session:
                await Repos(session).dashboard.close_session(_hash(token))
        response.delete_cookie(self.cookie, path="/")

    async def viewer(self, request: Request) -> Viewer:
        token = request.cookies.get(self.cookie)
        if not token:
            raise SignInRequired
        now = self.services.clock.now()
        async with self.services.database.transaction() as session:
            repos = Repos(session)
            found = await repos.dashboard.session_for(_hash(token))
            if found is None:
                raise SignInRequired
            if now - found.last_seen_at > IDLE or now - found.created_at > ABSOLUTE:
                await repos.dashboard.close_session(found.token_hash)
                raise SignInRequired
            member = await repos.members.get(found.member_id)
            if member is None or not member.active:
                raise SignInRequired
            found.last_seen_at = now
            csrf = found.csrf_token
        return Viewer(member, csrf, self.services.catalog.locale(member.locale))

    @staticmethod
    def check_csrf(viewer: Viewer, sent: str | None) -> None:
        if not same_token(sent, viewer.csrf_token):
            raise CsrfRefused


async def current_viewer(request: Request) -> Viewer:
    auth: DashboardAuth = request.app.state.dashboard_auth
    return await auth.viewer(request)


def require(role: Role) -> object:
    async def dependency(viewer: Annotated[Viewer, Depends(current_viewer)]) -> Viewer:
        if not viewer.member.has_role(role):
            raise Forbidden(role)
        return viewer

    return Depends(dependency)


async def csrf_checked(request: Request, viewer: Annotated[Viewer, Depends(current_viewer)]) -> Viewer:
    """For every state-changing request: the session's CSRF token in the form or the X-CSRF-Token header."""
    sent = request.headers.get("x-csrf-token")
    if sent is None:
        form = await request.form()
        value = form.get("csrf_token")
        sent = value if isinstance(value, str) else None
    DashboardAuth.check_csrf(viewer, sent)
    return viewer


def require_with_csrf(role: Role) -> object:
    """A state-changing request of a page for ``role``: the CSRF token is checked first, then the role."""

    async def dependency(viewer: Annotated[Viewer, Depends(csrf_checked)]) -> Viewer:
        if not viewer.member.has_role(role):
            raise Forbidden(role)
        return viewer

    return Depends(dependency)


AnyViewer = Annotated[Viewer, Depends(current_viewer)]
CsrfViewer = Annotated[Viewer, Depends(csrf_checked)]
Manager = Annotated[Viewer, require(Role.cx_manager)]
Admin = Annotated[Viewer, require(Role.admin)]
Leader = Annotated[Viewer, require(Role.leader)]
ManagerAction = Annotated[Viewer, require_with_csrf(Role.cx_manager)]
