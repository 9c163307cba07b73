"""A stateful local WeCom (企业微信) server for tests, the demo and rehearsals.

It answers the WeCom server API paths the product calls, with WeCom's envelopes, errmsg values, errcodes
and limits (see /work/shared/reference/wecom-api.md), keeps state across calls, injects faults on demand,
simulates the person and reviewer of an account deregistration, and compresses WeCom-side waits by a time
scale. Run it with ``python -m offboarding_dev.sandbox --help``; drive it from tests with
``offboarding_dev.sandbox.testing.running_sandbox`` and ``offboarding_dev.sandbox.control.SandboxControl``.
Seeded ids are listed in ``offboarding_dev.sandbox.seeds``.
"""
