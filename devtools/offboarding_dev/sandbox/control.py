"""``SandboxControl``: a small requests client for the sandbox's /sandbox/ control API."""

from __future__ import annotations

from typing import Any

import requests

from offboarding_dev.sandbox.config import SANDBOX_IDENTITY


class SandboxControlError(RuntimeError):
    """The control API answered with a non-200 status; ``reason`` is set when a request was refused."""

    def __init__(self, method: str, path: str, status: int, body: Any) -> None:
        message = body.get("error") if isinstance(body, dict) else str(body)
        super().__init__(f"sandbox control {method} {path} failed with HTTP {status}: {message}")
        self.status = status
        self.body = body
        self.reason: str | None = body.get("reason") if isinstance(body, dict) else None


class SandboxControl:
    """Drive and inspect a running sandbox: stats, reset, faults, members, messages, accounts."""

    def __init__(
        self, base_url: str, *, timeout: float = 30.0, session: requests.Session | None = None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = session or requests.Session()

    def __repr__(self) -> str:
        return f"SandboxControl({self.base_url!r})"

    def _call(self, method: str, path: str, json: Any = None, params: dict[str, str] | None = None) -> Any:
        response = self.session.request(
            method, f"{self.base_url}{path}", json=json, params=params, timeout=self.timeout
        )
        try:
            body = response.json()
        except ValueError:
            body = response.text
        if response.status_code != 200:
            raise SandboxControlError(method, path, response.status_code, body)
        return body

    # ----- identity, stats, reset, faults ------------------------------------------------------------
    def identity(self) -> dict[str, Any]:
        """``{"sandbox": "wecom-offboarding-sandbox", "corpid": ..., "time_scale": ...}``."""
        return self._call("GET", "/sandbox/identity")

    def is_sandbox(self) -> bool:
        """True only when the server answers ``/sandbox/identity`` with the sandbox's marker.

        Real WeCom (or anything else) answers that path with an error, not the marker; a server that
        cannot be reached is not the sandbox either (``requests.RequestException`` is not raised).
        """
        try:
            body = self.identity()
        except (SandboxControlError, requests.RequestException):
            return False
        return isinstance(body, dict) and body.get("sandbox") == SANDBOX_IDENTITY

    def info(self) -> dict[str, Any]:
        """corpid, agent_id, seed, time_scale, token_ttl and the sandbox's clock (no secrets)."""
        return self._call("GET", "/sandbox/info")

    def stats(self, include_writes: bool = True) -> dict[str, Any]:
        """``{"calls": {path: n}, "write_calls": {...}, "writes": [...], "errors": {...}, "injected_faults": n}``.

        ``include_writes=False`` leaves ``writes`` empty (cheaper after tens of thousands of writes)."""
        params = None if include_writes else {"writes": "false"}
        return self._call("GET", "/sandbox/stats", params=params)

    def reset_stats(self) -> None:
        self._call("POST", "/sandbox/stats/reset")

    def reset(self, seed: str = "default") -> None:
        """A fresh world from ``seed``; also resets stats, faults, tokens, limits and messages."""
        self._call("POST", "/sandbox/reset", json={"seed": seed})

    def set_faults(self, **spec: Any) -> dict[str, Any]:
        """E.g. ``set_faults(errcodes={"-1": 0.2}, http_5xx=0.05, latency_ms=0, paths=None,
        apply_then_fail=0.0, seed=42)``; fields left out are off."""
        if "errcodes" in spec and spec["errcodes"] is not None:
            spec["errcodes"] = {str(code): rate for code, rate in spec["errcodes"].items()}
        return self._call("POST", "/sandbox/faults", json=spec)

    def faults(self) -> dict[str, Any]:
        return self._call("GET", "/sandbox/faults")

    def clear_faults(self) -> None:
        self._call("DELETE", "/sandbox/faults")

    # ----- inspection -------------------------------------------------------------------------------
    def user(self, userid: str) -> dict[str, Any]:
        """The full internal record of a member, including ``deleted``, tags, chats, customers, groups."""
        return self._call("GET", f"/sandbox/users/{userid}")

    def state(self) -> dict[str, Any]:
        return self._call("GET", "/sandbox/state")

    def messages(self, since: str | None = None) -> list[dict[str, Any]]:
        """App messages received (message/send), optionally those at or after ISO instant ``since``."""
        return self._call("GET", "/sandbox/messages", params={"since": since} if since else None)["messages"]

    def webhook_messages(self, since: str | None = None) -> list[dict[str, Any]]:
        """Group-robot messages received; each carries ``key_hash`` instead of the key."""
        params = {"since": since} if since else None
        return self._call("GET", "/sandbox/webhook/messages", params=params)["messages"]

    def create_wedrive_file(
        self, spaceid: str, name: str, size: int, fatherid: str | None = None
    ) -> dict[str, Any]:
        """Create a generated file of ``size`` bytes (content derived from its fileid; costs no memory)."""
        body: dict[str, Any] = {"spaceid": spaceid, "name": name, "size": size}
        if fatherid is not None:
            body["fatherid"] = fatherid
        return self._call("POST", "/sandbox/wedrive/files", json=body)

    # ----- account deregistration -------------------------------------------------------------------
    def account(self, userid: str) -> dict[str, Any]:
        return self._call("GET", f"/sandbox/accounts/{userid}")

    def script_account(self, userid: str, **script: Any) -> dict[str, Any]:
        """Script the simulated person/reviewer: auto_submit, submit_after_hours, review ("pass"/"reject"),
        reject_reason, review_after_hours, login_during_cooling_off_after_days."""
        return self._call("POST", f"/sandbox/accounts/{userid}/script", json=script)

    def submit_deregistration(self, userid: str) -> dict[str, Any]:
        """The person submits now; a refusal raises SandboxControlError with ``.reason``."""
        return self._call("POST", f"/sandbox/accounts/{userid}/submit")

    def login(self, userid: str) -> dict[str, Any]:
        """The person logs in (revokes a pending deregistration)."""
        return self._call("POST", f"/sandbox/accounts/{userid}/login")
