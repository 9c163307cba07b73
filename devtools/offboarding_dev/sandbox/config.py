"""The sandbox's settings: one corp, its secrets, limits and fault defaults, as given on the command line."""

from __future__ import annotations

from dataclasses import dataclass

from offboarding_dev.sandbox.durations import DOCUMENTED, WeComDurations

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8900
DEFAULT_CORPID = "wwsandbox00000001"
DEFAULT_SECRET = "sandbox-secret"
DEFAULT_SEED = "default"
DEFAULT_AGENT_ID = 1000002
DEFAULT_TOKEN_TTL_SECONDS = 7200
DEFAULT_WEBHOOK_KEY = "sandbox-robot-key"
DEFAULT_RATE_LIMIT_PER_MINUTE = 10000
DEFAULT_FAULT_ERRCODES = (-1, 6000, 45033)
#: What ``GET /sandbox/identity`` answers in ``sandbox``. Real WeCom has no such path, so a server that
#: answers it with this marker is the sandbox (the rehearsal responder checks it before answering a step).
SANDBOX_IDENTITY = "wecom-offboarding-sandbox"

# The three kinds of secret WeCom hands out; a token carries the scopes of every kind whose secret it
# was obtained with (all three when the secrets are equal).
SCOPE_CONTACT = "contact"
SCOPE_CUSTOMER = "customer"
SCOPE_APP = "app"
ALL_SCOPES = frozenset({SCOPE_CONTACT, SCOPE_CUSTOMER, SCOPE_APP})


@dataclass(frozen=True)
class SandboxConfig:
    """Everything fixed for the life of one sandbox process (a reset keeps it)."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    corpid: str = DEFAULT_CORPID
    contact_secret: str = DEFAULT_SECRET
    customer_secret: str = DEFAULT_SECRET
    app_secret: str = DEFAULT_SECRET
    seed: str = DEFAULT_SEED
    time_scale: float = 1.0
    agent_id: int = DEFAULT_AGENT_ID
    token_ttl_seconds: int = DEFAULT_TOKEN_TTL_SECONDS
    webhook_keys: tuple[str, ...] = (DEFAULT_WEBHOOK_KEY,)
    rate_limit_per_minute: int = DEFAULT_RATE_LIMIT_PER_MINUTE
    fault_rate: float = 0.0
    fault_errcodes: tuple[int, ...] = DEFAULT_FAULT_ERRCODES
    http_5xx_rate: float = 0.0
    latency_ms: int = 0
    verbose: bool = False
    #: WeCom's durations and transfer limits (its documented figures unless changed on the command line).
    durations: WeComDurations = DOCUMENTED

    def scopes_for_secret(self, secret: str) -> frozenset[str]:
        """The scopes a token obtained with ``secret`` carries (empty when the secret is unknown)."""
        scopes = set()
        if secret == self.contact_secret:
            scopes.add(SCOPE_CONTACT)
        if secret == self.customer_secret:
            scopes.add(SCOPE_CUSTOMER)
        if secret == self.app_secret:
            scopes.add(SCOPE_APP)
        return frozenset(scopes)

    def __repr__(self) -> str:  # never show the secrets or webhook keys
        return (
            f"SandboxConfig(host={self.host!r}, port={self.port}, corpid={self.corpid!r}, seed={self.seed!r}, "
            f"time_scale={self.time_scale}, agent_id={self.agent_id})"
        )
