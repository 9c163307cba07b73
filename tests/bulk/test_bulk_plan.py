"""From sheet to plan: Chinese headers, value conversion, every bad row named by row number and field."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from offboarding.bulk import case_kind_for, plan_cases, read_sheet
from offboarding.bulk.columns import convert_cell, to_date
from offboarding.bulk.sheet import Sheet
from offboarding.cases import PERSON_CASE_SCHEMA

PERSON = case_kind_for("offboard_employee")
COMPANY = case_kind_for("dissolve_company")
CN_HEADER = "工号,姓名,交接人,最后工作日,角色,审批人,HR负责人,注销账号,演练,备份位置,通知,备注"


def sheet_of(tmp_path: Path, text: str) -> Sheet:
    path = tmp_path / "people.csv"
    path.write_text(text, encoding="utf-8")
    return read_sheet(path)


def test_chinese_headers_and_values_become_the_form_fields(tmp_path: Path) -> None:
    text = (
        CN_HEADER + "\n"
        "ZhangSan,张三,lisi,2026/12/1,法定代表人,boss_li; cfo_wu、hr_wang,hr_wang,是,否,archive,"
        "webhook:wecom_robot_ops;ops_zhou,HR-2026-17\n"
    )
    plan = plan_cases(sheet_of(tmp_path, text), "offboard_employee", PERSON)
    assert plan.file_problems == []
    [case] = plan.cases
    assert case.valid, case.problems
    assert case.case_id == "offboard-zhangsan"
    assert case.note == "HR-2026-17"
    assert case.conf == {
        "userid": "ZhangSan",
        "display_name": "张三",
        "successor_userid": "lisi",
        "last_working_day": "2026-12-01",
        "role": "legal_representative",
        "approvers": ["boss_li", "cfo_wu", "hr_wang"],
        "hr_owner": "hr_wang",
        "deregister_account": True,
        "dry_run": False,
        "backup_target": "archive",
        "notify": {"webhook_conn_id": "wecom_robot_ops", "userids": ["ops_zhou"]},
    }


def test_empty_cells_are_left_out_so_form_defaults_apply(tmp_path: Path) -> None:
    text = CN_HEADER + "\nwangwu,王五,zhaoliu,2026-12-05,,boss_li,hr_wang,,,,,\n"
    [case] = plan_cases(sheet_of(tmp_path, text), "offboard_employee", PERSON).cases
    assert case.valid
    assert set(case.conf) == {
        "userid",
        "display_name",
        "successor_userid",
        "last_working_day",
        "approvers",
        "hr_owner",
    }
    assert case.note is None


@pytest.mark.parametrize(
    ("cell", "iso"),
    [
        ("2026/12/1", "2026-12-01"),
        ("2026.12.01", "2026-12-01"),
        ("2026年12月1日", "2026-12-01"),
        ("2026-12-1", "2026-12-01"),
        (datetime(2026, 12, 1, 0, 0), "2026-12-01"),
        (46357, "2026-12-01"),  # Excel serial number of 2026-12-01
        ("46357", "2026-12-01"),
        ("2026/02/30", "2026/02/30"),  # impossible: left as typed so validation names it
        ("next friday", "next friday"),
    ],
)
def test_dates_are_normalised_to_iso(cell: object, iso: str) -> None:
    assert to_date(cell) == iso


@pytest.mark.parametrize(
    ("field", "cell", "value"),
    [
        ("deregister_account", "是", True),
        ("deregister_account", "否", False),
        ("deregister_account", "TRUE", True),
        ("deregister_account", "0", False),
        ("deregister_account", 1, True),
        ("deregister_account", "maybe", "maybe"),
        ("role", "员工", "employee"),
        ("role", "财务负责人", "finance_owner"),
        ("role", "Employee", "employee"),
        ("approvers", "a,b;c、d，e；f", ["a", "b", "c", "d", "e", "f"]),
        ("time_scale", "86400", 86400),
        ("time_scale", "1.5", 1.5),
        ("wedrive_space_ids", "s1\ns2", ["s1", "s2"]),
        ("notify", '{"userids": ["ops_zhou"]}', {"userids": ["ops_zhou"]}),
        ("notify", "群机器人：wecom_robot_ops", {"webhook_conn_id": "wecom_robot_ops", "userids": []}),
        ("userid", 10086.0, "10086"),
    ],
)
def test_cells_are_converted_by_the_field_type(field: str, cell: object, value: object) -> None:
    assert convert_cell(field, cell, PERSON_CASE_SCHEMA["properties"][field]) == value


def test_every_bad_row_is_reported_with_its_row_number_and_field(tmp_path: Path) -> None:
    text = (
        CN_HEADER + "\n"
        "zhangsan,张三,lisi,2026-12-01,员工,boss_li,hr_wang,,,,,\n"
        "bad id,坏,lisi,2026-12-01,员工,boss_li,hr_wang,,,,,\n"
        ",,,,,,,,,,,\n"
        "wangwu,王五,wangwu,2026/13/01,老板,,hr_wang,也许,,relative/dir,,\n"
    )
    plan = plan_cases(sheet_of(tmp_path, text), "offboard_employee", PERSON)
    problems = {(c.row, p.field) for c in plan.invalid_cases for p in c.problems}
    assert problems == {
        (3, "userid"),
        (5, "successor_userid"),
        (5, "last_working_day"),
        (5, "role"),
        # no (5, "approvers"): a blank cell takes the deployment's default approvers (or Airflow refuses
        # the run naming the field when the deployment has none)
        (5, "deregister_account"),
        (5, "backup_target"),
    }
    assert [c.row for c in plan.valid_cases] == [2]
    bad = next(c for c in plan.invalid_cases if c.row == 3)
    assert plan.where(bad.problems[0]).startswith("userid (column 工号): 'bad id' is not a WeCom userid")


def test_the_same_person_twice_is_refused_on_the_later_row(tmp_path: Path) -> None:
    text = (
        CN_HEADER
        + "\nzhangsan,张三,lisi,2026-12-01,,boss_li,hr_wang,,,,,\nZHANGSAN,张三,lisi,2026-12-01,,boss_li,hr_wang,,,,,\n"
    )
    plan = plan_cases(sheet_of(tmp_path, text), "offboard_employee", PERSON)
    [dupe] = plan.invalid_cases
    assert dupe.row == 3
    assert str(dupe.problems[0]) == "userid: same case as row 2 (offboard-zhangsan)"


def test_unknown_and_missing_columns_block_the_whole_sheet(tmp_path: Path) -> None:
    text = "工号,姓名,部门,交结人\nzhangsan,张三,销售,lisi\n"
    plan = plan_cases(sheet_of(tmp_path, text), "offboard_employee", PERSON)
    assert plan.cases == []
    assert "unknown column(s) '部门', '交结人'" in plan.file_problems[0]
    assert "--ignore-column" in plan.file_problems[0]
    assert plan.file_problems[1] == (
        "missing column(s) for required field(s): last_working_day, successor_userid"
    )  # hr_owner and approvers may come from the deployment's defaults
    ignored = plan_cases(sheet_of(tmp_path, text), "offboard_employee", PERSON, ("部门", "交结人"))
    assert not any("unknown" in p for p in ignored.file_problems)


def test_two_columns_for_one_field_block_the_sheet(tmp_path: Path) -> None:
    text = "工号,userid,姓名\nzhangsan,zhangsan,张三\n"
    plan = plan_cases(sheet_of(tmp_path, text), "offboard_employee", PERSON)
    assert plan.file_problems == ["columns '工号' and 'userid' both fill userid"]


def test_company_sheet_with_chinese_headers(tmp_path: Path) -> None:
    text = (
        "公司名称,统一社会信用代码,注销方式,法定代表人,财务负责人,审批人,交接人\n"
        "福州某某科技有限公司,91350100m000100y43,简易注销,fr_zhao,cw_qian,boss_li,admin_sun\n"
        "深圳某某有限公司,91440300708461136X,一般注销,fr_zhao,cw_qian,boss_li,admin_sun\n"
    )
    plan = plan_cases(sheet_of(tmp_path, text), "dissolve_company", COMPANY)
    good, bad = plan.cases
    assert good.valid and good.case_id == "dissolve-91350100M000100Y43"
    assert good.conf["procedure"] == "simplified"
    assert [(p.field, p.message) for p in bad.problems] == [
        ("credit_code", "check character is 'X' but the first 17 characters give 'T' (typo?)")
    ]


def test_case_kind_comes_from_the_dag_or_is_asked_for() -> None:
    assert case_kind_for("dissolve_company").name == "company"
    assert case_kind_for("offboard_employee_v2", "person").name == "person"
    with pytest.raises(ValueError, match="--case-type"):
        case_kind_for("offboard_employee_v2")


def test_a_cell_beyond_the_last_header_is_a_row_problem(tmp_path: Path) -> None:
    text = CN_HEADER + "\nzhangsan,张三,lisi,2026-12-01,,boss_li,hr_wang,,,,,,stray\n"
    [case] = plan_cases(sheet_of(tmp_path, text), "offboard_employee", PERSON).cases
    assert [p.field for p in case.problems] == ["(no header)"]


def test_rows_breaking_the_separation_of_duties_are_refused_before_triggering(tmp_path: Path) -> None:
    text = (
        CN_HEADER + "\n"
        "zhangsan,张三,lisi,2026-12-01,,hr_wang,hr_wang,,,,,\n"  # the trigger user approves
        "wangwu,王五,zhaoliu,2026-12-01,,zhaoliu,hr_wang,,,,,\n"  # the successor approves
        "sunqi,孙七,zhaoliu,2026-12-01,,sunqi,hr_wang,,,,,\n"  # the person approves
        "zhouba,周八,zhaoliu,2026-12-01,,boss_li,hr_wang,,,,,\n"  # fine
    )
    plan = plan_cases(sheet_of(tmp_path, text), "offboard_employee", PERSON, triggered_by="HR_Wang")
    problems = [[str(p) for p in case.problems] for case in plan.cases]
    assert problems[0] == [
        "approvers: hr_wang is the user who triggered this case and may not approve this case (separation of duties)"
    ]
    assert problems[1] == [
        "approvers: zhaoliu is the successor (successor_userid) and may not approve this case (separation of duties)"
    ]
    assert problems[2] == [
        "approvers: sunqi is the departing person (userid) and may not approve this case (separation of duties)"
    ]
    assert problems[3] == []
