"""Pure parts of the sandbox: stable-cursor index, generated content, seeds, clock, redaction, config repr."""

from __future__ import annotations

import hashlib
import time

import pytest

from offboarding_dev.sandbox.clock import SandboxClock, iso, parse_iso
from offboarding_dev.sandbox.config import SandboxConfig
from offboarding_dev.sandbox.content import BLOCK_SIZE, generated_bytes, generated_digests
from offboarding_dev.sandbox.redaction import redact_url
from offboarding_dev.sandbox.seeds import build_world
from offboarding_dev.sandbox.seqindex import SeqIndex


def test_seqindex_pages_and_survives_changes() -> None:
    index: SeqIndex[str] = SeqIndex()
    for i in range(10):
        index.add(f"k{i}")
    page, cursor = index.page(0, 4)
    assert page == ["k0", "k1", "k2", "k3"] and cursor is not None
    index.discard("k4")  # removed before it was seen
    index.discard("k1")  # removed after it was seen
    index.add("k10")
    rest, end = index.page(cursor, 100)
    assert rest == ["k5", "k6", "k7", "k8", "k9", "k10"] and end is None
    evens, _ = index.page(0, 100, where=lambda k: int(k[1:]) % 2 == 0)
    assert evens == ["k0", "k2", "k6", "k8", "k10"]
    assert len(index) == 9 and "k4" not in index


def test_seqindex_exact_last_page_has_no_cursor() -> None:
    index: SeqIndex[int] = SeqIndex()
    for i in range(4):
        index.add(i)
    assert index.page(0, 4) == ([0, 1, 2, 3], None)
    for i in range(1000):
        index.add(100 + i)
    for i in range(900):
        index.discard(100 + i)  # triggers compaction
    assert index.page(0, 1000)[0] == [0, 1, 2, 3, *range(1000, 1100)]


def test_generated_content_is_deterministic_and_rangeable() -> None:
    size = 2 * BLOCK_SIZE + 123
    whole = b"".join(generated_bytes("f1", size))
    assert len(whole) == size
    assert (
        b"".join(generated_bytes("f1", size, BLOCK_SIZE - 7, BLOCK_SIZE + 9))
        == whole[BLOCK_SIZE - 7 : BLOCK_SIZE + 9]
    )
    assert whole != b"".join(generated_bytes("f2", size))
    md5, sha = generated_digests("f1", size)
    assert md5 == hashlib.md5(whole).hexdigest() and sha == hashlib.sha1(whole).hexdigest()
    assert all(len(chunk) <= BLOCK_SIZE for chunk in generated_bytes("f1", size))


def test_seeds_default_and_members() -> None:
    now = time.time()
    world = build_world("default", now)
    assert world.members["zhangsan"].is_creator
    assert (
        len(world.members["bigsales"].customers) == 250 and len(world.members["bigsales"].group_chats) == 120
    )
    assert len(world.members["lisi"].customers) == 12 and len(world.members["lisi"].group_chats) == 3
    assert world.customers["wm_lisi_012"].refuses_takeover
    assert world.members["resigned01"].deleted and len(world.unassigned) == 3
    big = build_world("members:10000", now)
    assert len(big.members) == 10003 and len(big.customers) == 30000 and len(big.group_chats) == 10000
    assert sum(m.is_admin for m in big.members.values()) == 3


@pytest.mark.parametrize("seed", ["members:0", "members:x", "members:", "nope"])
def test_bad_seeds_are_refused_by_name(seed: str) -> None:
    with pytest.raises(ValueError, match=f"seed {seed!r}"):
        build_world(seed, time.time())


def test_clock_scales_durations_and_reports_wall_time() -> None:
    clock = SandboxClock(86400)
    assert clock.wall_seconds(86400) == 1.0
    assert clock.sandbox_day(clock.anchor + 1.0) > clock.sandbox_day(clock.anchor)
    with pytest.raises(ValueError, match="time_scale"):
        SandboxClock(0.5)
    assert parse_iso(iso(1700000000.25) or "") == pytest.approx(1700000000.25)
    with pytest.raises(ValueError, match="no UTC offset"):
        parse_iso("2025-01-01T00:00:00")


def test_redaction_and_config_repr_hide_credentials() -> None:
    line = "GET /cgi-bin/gettoken?corpid=ww1&corpsecret=S3CRET HTTP/1.1 /x?access_token=T0K&key=K3Y"
    redacted = redact_url(line)
    assert "S3CRET" not in redacted and "T0K" not in redacted and "K3Y" not in redacted
    assert "corpid=ww1" in redacted
    config = SandboxConfig(contact_secret="S3CRET", webhook_keys=("K3Y",))
    assert "S3CRET" not in repr(config) and "K3Y" not in repr(config)
