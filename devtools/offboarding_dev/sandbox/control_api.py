"""The control API under /sandbox/ (not WeCom; no token; never faulted): stats, reset, faults, inspection,
the inbox page (``GET /sandbox/inbox``: robot and app messages as people see them), generated WeDrive
files and the account-deregistration simulation."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from offboarding_dev.sandbox import accounts
from offboarding_dev.sandbox.accounts import Account, DeregistrationScript
from offboarding_dev.sandbox.clock import iso, parse_iso
from offboarding_dev.sandbox.config import SANDBOX_IDENTITY
from offboarding_dev.sandbox.content import generated_digests
from offboarding_dev.sandbox.errors import ControlError
from offboarding_dev.sandbox.faults import FaultSpec
from offboarding_dev.sandbox.http_types import Request, Response
from offboarding_dev.sandbox.seqindex import SeqIndex
from offboarding_dev.sandbox.world import WeDriveFile, WeDriveSpace

if TYPE_CHECKING:
    from offboarding_dev.sandbox.app import SandboxApp

MAX_GENERATED_FILE_SIZE = 64 * 1024**3
ControlHandler = Callable[[Request, re.Match[str]], Any]


class ControlApi:
    """Routes /sandbox/ requests; answers JSON, errors as ``{"error": ...}`` with a 4xx status."""

    def __init__(self, app: SandboxApp) -> None:
        self.app = app
        user = r"(?P<userid>[^/]+)"
        self.routes: list[tuple[str, re.Pattern[str], ControlHandler]] = [
            ("GET", re.compile(r"/sandbox/identity"), self.identity),
            ("GET", re.compile(r"/sandbox/info"), self.info),
            ("GET", re.compile(r"/sandbox/stats"), self.stats),
            ("POST", re.compile(r"/sandbox/stats/reset"), self.reset_stats),
            ("POST", re.compile(r"/sandbox/reset"), self.reset),
            ("GET", re.compile(r"/sandbox/faults"), self.get_faults),
            ("POST", re.compile(r"/sandbox/faults"), self.set_faults),
            ("DELETE", re.compile(r"/sandbox/faults"), self.clear_faults),
            ("GET", re.compile(r"/sandbox/state"), self.state),
            ("GET", re.compile(rf"/sandbox/users/{user}"), self.user),
            ("GET", re.compile(r"/sandbox/messages"), self.app_messages),
            ("GET", re.compile(r"/sandbox/webhook/messages"), self.robot_messages),
            ("GET", re.compile(r"/sandbox/inbox"), self.inbox),
            ("POST", re.compile(r"/sandbox/wedrive/files"), self.create_file),
            ("GET", re.compile(rf"/sandbox/accounts/{user}"), self.account),
            ("POST", re.compile(rf"/sandbox/accounts/{user}/script"), self.script_account),
            ("POST", re.compile(rf"/sandbox/accounts/{user}/submit"), self.submit),
            ("POST", re.compile(rf"/sandbox/accounts/{user}/login"), self.login),
        ]

    def handle(self, request: Request) -> Response:
        path = request.path.rstrip("/") or "/"
        allowed = []
        for method, pattern, handler in self.routes:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            if method != request.method:
                allowed.append(method)
                continue
            try:
                answer = handler(request, match)
                return answer if isinstance(answer, Response) else Response.json(answer)
            except ControlError as error:
                return Response.json({"error": error.message, **error.extra}, status=error.status)
        if allowed:
            return Response.json(
                {"error": f"{request.method} not allowed on {path}; use {', '.join(allowed)}"}, status=405
            )
        return Response.json({"error": f"unknown control path {path}"}, status=404)

    # ----- helpers ----------------------------------------------------------------------------------
    @staticmethod
    def _json(request: Request) -> dict[str, Any]:
        try:
            body = request.json()
        except (ValueError, UnicodeDecodeError):
            raise ControlError(400, "the body is not valid JSON") from None
        if not isinstance(body, dict):
            raise ControlError(400, "the body must be a JSON object")
        return body

    @staticmethod
    def _since(request: Request) -> float | None:
        text = request.query.get("since")
        if not text:
            return None
        try:
            return parse_iso(text)
        except ValueError:
            raise ControlError(
                400, f"since must be an ISO-8601 instant with an offset, got {text!r}"
            ) from None

    # ----- stats, reset, faults ---------------------------------------------------------------------
    def identity(self, request: Request, match: re.Match[str]) -> dict[str, Any]:
        """The fixed marker that tells a rehearsal tool it talks to the sandbox, not to WeCom."""
        return {
            "sandbox": SANDBOX_IDENTITY,
            "corpid": self.app.config.corpid,
            "time_scale": self.app.config.time_scale,
        }

    def info(self, request: Request, match: re.Match[str]) -> dict[str, Any]:
        config = self.app.config
        return {
            "corpid": config.corpid,
            "agent_id": config.agent_id,
            "seed": self.app.seed,
            "time_scale": config.time_scale,
            "token_ttl": config.token_ttl_seconds,
            "rate_limit_per_minute": config.rate_limit_per_minute,
            "durations": asdict(self.app.durations),
            "now": iso(self.app.clock.now()),
        }

    def stats(self, request: Request, match: re.Match[str]) -> dict[str, Any]:
        """All statistics; ``?writes=false`` leaves out the (possibly long) list of writes."""
        include_writes = request.query.get("writes", "true").lower() not in ("false", "0", "no")
        return self.app.stats.snapshot(include_writes=include_writes)

    def reset_stats(self, request: Request, match: re.Match[str]) -> dict[str, Any]:
        self.app.stats.reset()
        return {"ok": True}

    def reset(self, request: Request, match: re.Match[str]) -> dict[str, Any]:
        seed = self._json(request).get("seed", "default")
        if not isinstance(seed, str):
            raise ControlError(400, "seed must be a string such as 'default' or 'members:2000'")
        try:
            self.app.reset(seed)
        except ValueError as error:
            raise ControlError(400, str(error)) from None
        return {"ok": True, "seed": seed}

    def get_faults(self, request: Request, match: re.Match[str]) -> dict[str, Any]:
        return self.app.faults.spec.to_json()

    def set_faults(self, request: Request, match: re.Match[str]) -> dict[str, Any]:
        try:
            spec = FaultSpec.from_json(self._json(request))
        except ValueError as error:
            raise ControlError(400, str(error)) from None
        self.app.faults.set(spec)
        return spec.to_json()

    def clear_faults(self, request: Request, match: re.Match[str]) -> dict[str, Any]:
        self.app.faults.clear()
        return self.app.faults.spec.to_json()

    # ----- inspection -------------------------------------------------------------------------------
    def state(self, request: Request, match: re.Match[str]) -> dict[str, Any]:
        app = self.app
        now = app.clock.now()
        with app.world.lock:
            world = app.world
            world.settle_due(now)
            counts = world.counts()
            by_status: dict[str, int] = {}
            for userid, account in world.accounts.items():
                accounts.advance(account, world.members[userid], now, app.clock, app.durations)
                by_status[account.status] = by_status.get(account.status, 0) + 1
        counts["accounts"] = by_status
        counts["seed"] = app.seed
        return counts

    def user(self, request: Request, match: re.Match[str]) -> dict[str, Any]:
        userid = match["userid"]
        app = self.app
        with app.world.lock:
            world = app.world
            world.settle_due(app.clock.now())
            member = world.members.get(userid)
            if member is None:
                raise ControlError(404, f"no member {userid!r} in seed {app.seed!r}")
            record = member.as_wecom()
            record.update(
                deleted=member.deleted,
                deleted_at=iso(member.deleted_at),
                is_creator=member.is_creator,
                is_admin=member.is_admin,
                roles=list(member.roles),
                customer_limit=member.customer_limit,
                tags=sorted(member.tags),
                chats=sorted(member.app_chats),
                customers=list(member.customers),
                groups=list(member.group_chats),
                unassigned_customers=[ext for ext in member.customers if (userid, ext) in world.unassigned],
            )
            return record

    def _messages(self, request: Request, records: list[tuple[float, dict[str, Any]]]) -> dict[str, Any]:
        since = self._since(request)
        with self.app.world.lock:
            chosen = [
                record for at, record in records if since is None or at >= since - 1e-6
            ]  # since is µs-precise
        return {"messages": chosen}

    def app_messages(self, request: Request, match: re.Match[str]) -> dict[str, Any]:
        return self._messages(request, self.app.world.app_messages)

    def robot_messages(self, request: Request, match: re.Match[str]) -> dict[str, Any]:
        return self._messages(request, self.app.world.robot_messages)

    def inbox(self, request: Request, match: re.Match[str]) -> Response:
        """The robot and app messages as people see them in WeCom (HTML; see :mod:`.inbox`)."""
        from offboarding_dev.sandbox.inbox import REFRESH_SECONDS, render_inbox

        try:
            refresh = int(request.query.get("refresh") or REFRESH_SECONDS)
        except ValueError:
            raise ControlError(400, "refresh must be a whole number of seconds") from None
        if not 1 <= refresh <= 3600:
            raise ControlError(400, "refresh must be from 1 to 3600 seconds")
        world = self.app.world
        with world.lock:
            robot = [record for _, record in world.robot_messages]
            app = [record for _, record in world.app_messages]
            names = {userid: member.name for userid, member in world.members.items()}
        page = render_inbox(robot, app, names, refresh=refresh)
        return Response(
            body=page.encode("utf-8"),
            content_type="text/html; charset=utf-8",
            headers={
                "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'",
                "X-Content-Type-Options": "nosniff",
                "Cache-Control": "no-store",
            },
        )

    # ----- WeDrive ------------------------------------------------------------------------------------
    def create_file(self, request: Request, match: re.Match[str]) -> dict[str, Any]:
        body = self._json(request)
        spaceid, name, size = body.get("spaceid"), body.get("name"), body.get("size")
        fatherid = body.get("fatherid") or spaceid
        if not isinstance(spaceid, str) or not spaceid:
            raise ControlError(400, "spaceid must be a non-empty string")
        if not isinstance(name, str) or not name or "/" in name:
            raise ControlError(400, "name must be a non-empty file name without '/'")
        if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= MAX_GENERATED_FILE_SIZE:
            raise ControlError(
                400, f"size must be a whole number of bytes from 0 to {MAX_GENERATED_FILE_SIZE}"
            )
        if not isinstance(fatherid, str):
            raise ControlError(400, "fatherid must be a string (a folder fileid or the spaceid)")
        app = self.app
        with app.world.lock:
            fileid = app.world.new_id(f"gen_{spaceid}_")
            if fatherid != spaceid:
                folder = app.world.files.get(fatherid)
                if folder is None or folder.file_type != 1 or folder.spaceid != spaceid:
                    raise ControlError(400, f"fatherid {fatherid!r} is not a folder in space {spaceid!r}")
        md5, sha = generated_digests(fileid, size)  # outside the lock: a 1 GB file takes seconds
        now = int(app.clock.now())
        item = WeDriveFile(fileid, spaceid, fatherid, name, 2, size, now, now, md5, sha)
        with app.world.lock:
            world = app.world
            if spaceid not in world.spaces:
                world.add_space(WeDriveSpace(spaceid, spaceid))
            world.children.setdefault(fatherid, SeqIndex())
            world.add_file(item)
        return item.as_wecom()

    # ----- account deregistration ---------------------------------------------------------------------
    def _account(self, userid: str) -> tuple[Account, Any]:
        """The (advanced) account of a member; the world lock must be held."""
        world = self.app.world
        member = world.members.get(userid)
        if member is None:
            raise ControlError(404, f"no member {userid!r} in seed {self.app.seed!r}")
        account = world.accounts.get(userid)
        if account is None:
            account = world.accounts[userid] = Account(userid)
        accounts.advance(account, member, self.app.clock.now(), self.app.clock, self.app.durations)
        return account, member

    def account(self, request: Request, match: re.Match[str]) -> dict[str, Any]:
        with self.app.world.lock:
            account, _ = self._account(match["userid"])
            return account.as_json(self.app.clock, self.app.durations)

    def script_account(self, request: Request, match: re.Match[str]) -> dict[str, Any]:
        body = self._json(request)
        with self.app.world.lock:
            account, _ = self._account(match["userid"])
            try:
                account.script = DeregistrationScript.from_json(body, account.script)
            except ValueError as error:
                raise ControlError(400, str(error)) from None
            return account.as_json(self.app.clock, self.app.durations)

    def submit(self, request: Request, match: re.Match[str]) -> dict[str, Any]:
        clock = self.app.clock
        with self.app.world.lock:
            account, member = self._account(match["userid"])
            if account.status in (accounts.UNDER_REVIEW, accounts.COOLING_OFF, accounts.DEREGISTERED):
                raise ControlError(
                    409,
                    f"account {account.userid} is {account.status}; nothing to submit",
                    status=account.status,
                )
            reason = accounts.submit(account, member, clock.now(), clock)
            if reason is not None:
                raise ControlError(409, f"deregistration refused: {reason}", reason=reason)
            return account.as_json(clock, self.app.durations)

    def login(self, request: Request, match: re.Match[str]) -> dict[str, Any]:
        clock = self.app.clock
        with self.app.world.lock:
            account, _ = self._account(match["userid"])
            if account.status == accounts.DEREGISTERED:
                raise ControlError(409, f"account {account.userid} is deregistered; it cannot log in")
            accounts.login(account, clock.now())
            return account.as_json(clock, self.app.durations)
