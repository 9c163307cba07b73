"""Case schemas: the invalid corpus is refused naming the field, valid cases pass, case ids are run ids."""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from offboarding.cases import (
    COMPANY_CASE_SCHEMA,
    PERSON_CASE_SCHEMA,
    company_case_id,
    person_case_id,
    validate_company_case,
    validate_person_case,
)

CORPUS = yaml.safe_load((Path(__file__).parent / "invalid_cases.yaml").read_text())

PERSON_BASE: dict[str, Any] = {
    "userid": "zhangsan",
    "display_name": "张三",
    "last_working_day": "2026-12-31",
    "successor_userid": "lisi",
    "hr_owner": "hr_wang",
    "approvers": ["boss_li"],
}
COMPANY_BASE: dict[str, Any] = {
    "company_name": "福州某某科技有限公司",
    "credit_code": "91350100M000100Y43",
    "procedure": "general",
    "legal_representative": "fr_zhao",
    "finance_owner": "cw_qian",
    "approvers": ["boss_li"],
    "successor_userid": "admin_sun",
}
VALIDATORS = {"person": validate_person_case, "company": validate_company_case}
BASES = {"person": PERSON_BASE, "company": COMPANY_BASE}
# Airflow's run-id rule ([scheduler] allowed_run_id_pattern default) and its ban on "..".
AIRFLOW_RUN_ID = re.compile(r"^[A-Za-z0-9_.~:+-]+$")


def build_conf(kind: str, entry: dict[str, Any]) -> dict[str, Any]:
    conf = copy.deepcopy(BASES[kind])
    for name in entry.get("unset", []):
        del conf[name]
    conf.update(copy.deepcopy(entry.get("set", {})))
    return conf


CORPUS_CASES = [
    pytest.param(kind, entry, id=f"{kind}: {entry['name']}") for kind in CORPUS for entry in CORPUS[kind]
]


def test_the_corpus_is_big_enough() -> None:
    assert len(CORPUS_CASES) >= 25


@pytest.mark.parametrize(("kind", "entry"), CORPUS_CASES)
def test_invalid_case_is_refused_naming_the_field(kind: str, entry: dict[str, Any]) -> None:
    problems = VALIDATORS[kind](build_conf(kind, entry))
    assert [p.field for p in problems] == [entry["field"]], problems
    assert entry["says"] in problems[0].message
    assert str(problems[0]).startswith(f"{entry['field']}: ")


@pytest.mark.parametrize(
    "conf",
    [
        PERSON_BASE,
        {**PERSON_BASE, "role": "legal_representative", "deregister_account": True, "dry_run": True},
        {
            **PERSON_BASE,
            "userid": "zhang.san@corp-1",
            "backup_target": "s3://offboarding-backups/2026",
            "notify": {"webhook_conn_id": "wecom_robot_ops", "userids": ["ops_zhou", "hr_wang"]},
            "wecom_conn_id": "wecom_sandbox",
            "time_scale": 86400,
            "wedrive_space_ids": ["s.1", "s.2"],
            "approvers": ["boss_li", "cfo_wu"],
        },
        {**PERSON_BASE, "backup_target": "/srv/offboarding/backups", "notify": {"webhook_conn_id": None}},
    ],
    ids=["minimal", "legal representative", "every field", "absolute path"],
)
def test_valid_person_cases_pass(conf: dict[str, Any]) -> None:
    assert validate_person_case(conf) == []


@pytest.mark.parametrize(
    "credit_code", ["91350100M000100Y43", "91440300708461136T", "914403001922038216", "91110000600037341L"]
)
def test_valid_company_cases_pass(credit_code: str) -> None:
    conf = {**COMPANY_BASE, "credit_code": credit_code, "procedure": "simplified", "time_scale": 1.5}
    assert validate_company_case(conf) == []


def test_every_problem_of_a_bad_case_is_reported_at_once() -> None:
    conf = {"userid": "bad id!", "last_working_day": "2026/12/01", "approvers": [], "role": "ceo"}
    fields = [p.field for p in validate_person_case(conf)]
    assert set(fields) == {
        "userid",
        "display_name",
        "last_working_day",
        "role",
        "successor_userid",
        "hr_owner",
        "approvers",
    }


def test_a_conf_that_is_not_an_object_is_refused() -> None:
    assert [str(p) for p in validate_person_case(["zhangsan"])] == [
        "(case): must be an object of fields, got list"
    ]


def test_infinite_time_scale_is_refused() -> None:
    problems = validate_person_case({**PERSON_BASE, "time_scale": float("inf")})
    assert [p.field for p in problems] == ["time_scale"]


def test_allow_unknown_accepts_fields_a_dag_adds() -> None:
    conf = {**PERSON_BASE, "rehearsal_seed": "default"}
    assert [p.field for p in validate_person_case(conf)] == ["rehearsal_seed"]
    assert validate_person_case(conf, allow_unknown=True) == []


def test_schemas_are_plain_json_with_form_extras_for_every_field() -> None:
    for schema in (PERSON_CASE_SCHEMA, COMPANY_CASE_SCHEMA):
        json.dumps(schema)  # plain data, no Airflow objects
        for name, field in schema["properties"].items():
            assert field.get("title") and field.get("description") and field.get("section"), name
            assert re.search(r"\(.+\)", field["title"]), f"{name}: the title carries the Chinese term"
    assert COMPANY_CASE_SCHEMA["properties"]["credit_code"]["format"] == "cn-credit-code"
    assert COMPANY_CASE_SCHEMA["properties"]["credit_code"]["pattern"] == "^[0-9A-HJ-NP-RTUW-Y]{18}$"


@pytest.mark.parametrize(
    ("userid", "case_id"),
    [
        ("zhangsan", "offboard-zhangsan"),
        ("ZhangSan", "offboard-zhangsan"),
        ("zhang.san@corp", "offboard-zhang.san~corp"),
        ("a..b", "offboard-a.+.b"),
        ("a...b", "offboard-a.+.+.b"),
        ("li_si-2", "offboard-li_si-2"),
    ],
)
def test_person_case_id_is_a_valid_airflow_run_id(userid: str, case_id: str) -> None:
    made = person_case_id({**PERSON_BASE, "userid": userid})
    assert made == case_id
    assert AIRFLOW_RUN_ID.match(made) and ".." not in made


def test_distinct_userids_give_distinct_case_ids() -> None:
    userids = ["a.b", "a..b", "a@b", "a-b", "a_b", "a.@b", "a@.b", "ab"]
    assert len({person_case_id({"userid": u}) for u in userids}) == len(userids)


def test_company_case_id_and_bad_input() -> None:
    assert company_case_id(COMPANY_BASE) == "dissolve-91350100M000100Y43"
    with pytest.raises(ValueError, match="credit_code: check character"):
        company_case_id({**COMPANY_BASE, "credit_code": "91350100M000100Y44"})
    with pytest.raises(ValueError, match="userid"):
        person_case_id({"userid": "bad id!"})


# Airflow's own validation of the trigger form, run the way the api-server does it at run creation
# (serialized params → deep_merge(conf) → validate), in a fresh process with a throw-away AIRFLOW_HOME.
FORM_CHECK = """
import json, sys
from offboarding.cases import company_params, person_params
from airflow.serialization.definitions.param import SerializedParam, SerializedParamsDict

def server_side(params):
    out = {}
    for name, p in params.items():
        kwargs = dict(p.schema)
        if p.has_value:
            kwargs["default"] = p.value
        out[name] = SerializedParam(description=p.description, **kwargs)
    return SerializedParamsDict(out)

forms = {"person": server_side(person_params()), "company": server_side(company_params())}
verdicts = []
for kind, conf in json.load(sys.stdin):
    try:
        forms[kind].deep_merge(conf).validate()
        verdicts.append(None)
    except Exception as exc:
        verdicts.append(str(exc).splitlines()[0])
print(json.dumps(verdicts))
"""


@pytest.fixture(scope="module")
def airflow_form_verdicts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str | None]:
    confs = [(kind, build_conf(kind, entry)) for kind in CORPUS for entry in CORPUS[kind]]
    confs += [("person", PERSON_BASE), ("company", COMPANY_BASE)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env["AIRFLOW_HOME"] = str(tmp_path_factory.mktemp("airflow_home"))
    done = subprocess.run(
        [sys.executable, "-c", FORM_CHECK],
        input=json.dumps(confs),
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    verdicts = json.loads(done.stdout.strip().splitlines()[-1])
    names = [f"{kind}: {entry['name']}" for kind in CORPUS for entry in CORPUS[kind]] + [
        "valid person",
        "valid company",
    ]
    return dict(zip(names, verdicts, strict=True))


@pytest.mark.parametrize(("kind", "entry"), CORPUS_CASES)
def test_airflow_trigger_form_refuses_the_same_cases(
    kind: str, entry: dict[str, Any], airflow_form_verdicts: dict[str, str | None]
) -> None:
    verdict = airflow_form_verdicts[f"{kind}: {entry['name']}"]
    if entry.get("form_refuses", True):
        top_field = re.split(r"[.\[]", entry["field"])[0]
        assert verdict is not None and f"param {top_field}:" in verdict, verdict
    else:
        assert verdict is None, "cross-field rules are for validate_*_case, Airflow cannot see them"


def test_airflow_trigger_form_accepts_the_valid_cases(airflow_form_verdicts: dict[str, str | None]) -> None:
    assert airflow_form_verdicts["valid person"] is None
    assert airflow_form_verdicts["valid company"] is None


def test_deregistering_the_admin_needs_the_admin_named() -> None:
    problems = validate_company_case({**COMPANY_BASE, "deregister_admin_account": True})
    assert [(p.field, p.message) for p in problems] == [
        ("admin_userid", "is required when deregister_admin_account is true")
    ]
    assert (
        validate_company_case({**COMPANY_BASE, "deregister_admin_account": True, "admin_userid": "admin01"})
        == []
    )
