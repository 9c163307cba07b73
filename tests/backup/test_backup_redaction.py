"""Secrets in URLs and name=value text are hidden before they reach a message or a repr."""

from __future__ import annotations

import pytest

from offboarding.backup.redaction import redact_url


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "https://qyapi.weixin.qq.com/cgi-bin/user/get?access_token=AT123&userid=zhangsan",
            "https://qyapi.weixin.qq.com/cgi-bin/user/get?access_token=***&userid=zhangsan",
        ),
        (
            "GET /cgi-bin/gettoken?corpid=ww1&corpsecret=S3CR3T",
            "GET /cgi-bin/gettoken?corpid=ww1&corpsecret=***",
        ),
        (
            "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx",
            "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=***",
        ),
        ("s3://AKIA:wJalrXUtnFEMI@bucket/backups", "s3://AKIA:***@bucket/backups"),
        ("webhook_key=abc, api_token=def", "webhook_key=***, api_token=***"),
        ("userid=zhangsan&department=1", "userid=zhangsan&department=1"),
    ],
)
def test_redact_url(text: str, expected: str) -> None:
    assert redact_url(text) == expected
