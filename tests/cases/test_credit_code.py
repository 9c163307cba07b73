"""统一社会信用代码 (GB 32100-2015): the weighted mod-31 check, and Airflow Params refusing a bad one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from offboarding.cases import credit_code_problem, is_valid_credit_code
from offboarding.cases.credit_code import CREDIT_CODE_WEIGHTS, credit_code_check_character

# Public codes printed on business licences (the first is the example in the brief).
VALID_CODES = ["91350100M000100Y43", "91440300708461136T", "914403001922038216", "91110000600037341L"]


@pytest.mark.parametrize("code", VALID_CODES)
def test_real_codes_are_valid(code: str) -> None:
    assert credit_code_problem(code) is None
    assert is_valid_credit_code(code)


def test_the_weights_are_the_standard_ones() -> None:
    assert CREDIT_CODE_WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def test_check_character_of_the_brief_example() -> None:
    assert credit_code_check_character("91350100M000100Y4") == "3"


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        ("91350100M000100Y44", "check character is '4' but the first 17 characters give '3' (typo?)"),
        ("91350100M000100Y40", "check character is '0' but the first 17 characters give '3' (typo?)"),
        ("91440300708461136Y", "check character is 'Y' but the first 17 characters give 'T' (typo?)"),
        ("914403001922038217", "check character is '7' but the first 17 characters give '6' (typo?)"),
        ("91350100M000100Y4", "must be 18 characters, got 17 ('91350100M000100Y4')"),
        ("91350100M000100Y433", "must be 18 characters, got 19 ('91350100M000100Y433')"),
        ("", "must be 18 characters, got 0 ('')"),
        (
            "91350100M000100Y4\n",
            "character '\\n' at position 18 is not allowed (I, O, S, V, Z are never used)",
        ),
        ("91350100M000100S43", "character 'S' at position 16 is not allowed (I, O, S, V, Z are never used)"),
        ("91350100m000100Y43", "character 'm' at position 9 is not allowed (use capitals)"),
        ("9135 100M000100Y43", "character ' ' at position 5 is not allowed (I, O, S, V, Z are never used)"),
        (None, "must be a string of 18 characters, got NoneType"),
        (913501001000100143, "must be a string of 18 characters, got int"),
    ],
)
def test_bad_codes_say_what_is_wrong(code: object, problem: str) -> None:
    assert credit_code_problem(code) == problem
    assert not is_valid_credit_code(code)


def test_every_single_character_typo_of_a_valid_code_is_caught() -> None:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    code = VALID_CODES[0]
    for position in range(18):
        for ch in alphabet:
            if ch != code[position]:
                typo = code[:position] + ch + code[position + 1 :]
                assert not is_valid_credit_code(typo), typo


# A fresh process: Airflow's Param accepts any text for an unknown format until
# register_format_checks() runs, then refuses a wrong check character (what the plugin relies on).
PARAM_CHECK = """
import json
from airflow.sdk import Param
from airflow.sdk.exceptions import ParamValidationError
from offboarding.cases import register_format_checks

def verdict(value):
    param = Param(type="string", format="cn-credit-code")
    try:
        param.resolve(value)
        return "accepted"
    except ParamValidationError as exc:
        return "refused: " + str(exc).splitlines()[0]

before = verdict("91350100M000100Y44")
register_format_checks()
register_format_checks()  # idempotent
print(json.dumps({"before": before, "bad": verdict("91350100M000100Y44"), "good": verdict("91350100M000100Y43")}))
"""


def test_airflow_param_refuses_a_wrong_check_character_after_registration(tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env["AIRFLOW_HOME"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", PARAM_CHECK], capture_output=True, text=True, env=env, timeout=120, check=True
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["before"] == "accepted"
    assert result["bad"] == "refused: '91350100M000100Y44' is not a 'cn-credit-code'"
    assert result["good"] == "accepted"


# What the api-server does: it loads the plugins folder's plugin file, nothing else of ours.
PLUGIN_CHECK = """
import importlib.util, json, sys
from airflow.sdk import Param
from airflow.sdk.exceptions import ParamValidationError

spec = importlib.util.spec_from_file_location("offboarding_plugin", sys.argv[1])
spec.loader.exec_module(importlib.util.module_from_spec(spec))
try:
    Param(type="string", format="cn-credit-code").resolve("91350100M000100Y44")
    print(json.dumps("accepted"))
except ParamValidationError:
    print(json.dumps("refused"))
"""


def test_loading_the_airflow_plugin_makes_every_process_check_credit_codes(tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env["AIRFLOW_HOME"] = str(tmp_path)
    plugin = Path(__file__).resolve().parents[2] / "plugins" / "offboarding_plugin.py"
    done = subprocess.run(
        [sys.executable, "-c", PLUGIN_CHECK, str(plugin)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    assert json.loads(done.stdout.strip().splitlines()[-1]) == "refused"
