"""The "Offboarding cases" page: every case's phase, step, deadline, stall, owner, audit and evidence.

:mod:`~offboarding.cases_page.query` (one SELECT per page), :mod:`~offboarding.cases_page.cases`
(rows → cases), :mod:`~offboarding.cases_page.render` (HTML), :mod:`~offboarding.cases_page.app`
(the FastAPI app the plugin mounts at ``/offboarding``). The 10,000 synthetic cases of the benchmark are
seeded by ``offboarding_dev.synthetic`` (the dev distribution).
"""
