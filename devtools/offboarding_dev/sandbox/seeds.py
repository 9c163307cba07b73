"""Seeded corps the sandbox starts from: ``default`` (a small, hand-written company) and ``members:N``.

Seed ``default`` — 示例科技有限公司 (every id below is stable; tests may rely on it)
------------------------------------------------------------------------------------
Departments: 1 示例科技有限公司 (root), 2 研发部, 3 销售部, 4 财务部, 99 离职人员.

Members (userid — who, department):

* ``zhangsan`` 张三 — the corp's creator and an admin, dept 1: user/delete answers 301005; cannot
  submit an account deregistration.
* ``admin01`` 管理员 — admin, dept 1 (account deregistration refused while admin).
* ``lisi`` 李四 — sales manager, dept 3 (leader). 12 customers ``wm_lisi_001`` … ``wm_lisi_012``;
  ``wm_lisi_011`` was already transferred on-job twice in the last 90 days (on-job transfer → 40128);
  ``wm_lisi_010`` once (a handover to a successor passes, handing it back afterwards → 40128);
  ``wm_lisi_012`` refuses takeover (transfer ends in status 3). 3 customer groups ``wr_lisi_01`` …
  ``wr_lisi_03``. Tags 1, 2 (app-created) and 3 (not app-created → 81011). App chat
  ``chat_sales_weekly`` (owner) and member of ``chat_other_app``. WeDrive space ``space_lisi``.
* ``wangwu`` 王五 — sales, dept 3: the good successor; customers ``wm_wangwu_001``, ``wm_wangwu_002``.
* ``zhaoliu`` 赵六 — engineer, dept 2; member of ``chat_sales_weekly``.
* ``sunqi`` 孙七 — legal representative (role ``legal_representative``), dept 1.
* ``zhouba`` 周八 — finance owner (role ``finance_owner``), dept 4.
* ``wujiu`` 吴九 — accountant and tax filer (role ``tax_filer``), dept 4.
* ``zhengshi`` 郑十 — engineer, dept 2.
* ``bigsales`` 钱多多 — key-account sales, dept 3: 250 customers ``wm_big_0001`` … ``wm_big_0250`` and
  120 customer groups ``wr_big_0001`` … ``wr_big_0120``; tags 1, 2, 3.
* ``groupowner`` 郭群主 — sales, dept 3, owns 305 customer groups ``wr_many_0001`` … ``wr_many_0305``
  (one customer ``wm_many_001``): more than the 300 groups a day one resigned owner may hand to one new
  owner (``groupchat/transfer`` → 90503 from the 301st that sandbox day).
* ``fullsales`` 满额 — sales, dept 3, at its customer limit (3 customers ``wm_full_001`` …
  ``wm_full_003``, limit 3): a transfer to it ends in status 4.
* ``disabled01`` 停用者 — dept 2, status 2 (disabled).
* ``inactive01`` 未激活 — dept 2, status 4 (not activated).
* ``quit01`` 已退出 — dept 2, status 5 (left the enterprise by themself).
* ``Lin..Feng@corp.cn`` 林峰 — sales, dept 3: a userid with ``@``, ``..`` and capitals (WeCom allows
  them; email ``linfeng@example.com``). Customers ``wm_linfeng_001`` … ``wm_linfeng_003`` and one customer
  group ``wr_linfeng_01``.
* ``resigned01`` 已离职 — already deleted from the contacts 30 days ago (user/get → 60111); its customers
  ``wm_resigned_001`` … ``wm_resigned_003`` are unassigned and its customer groups ``wr_resigned_01``,
  ``wr_resigned_02`` have status 1 (awaiting inheritance).

Tags: 1 销售一组 (app-created; lisi, wangwu, bigsales, fullsales; party 3), 2 重点客户负责人 (app-created;
lisi, bigsales), 3 全员通知 (created by the admin, not the app: deltagusers → 81011; lisi, wangwu,
zhaoliu, bigsales).

App chats: ``chat_sales_weekly`` 销售周会 (app-created; owner lisi; lisi, wangwu, zhaoliu, bigsales),
``chat_other_app`` 其他应用的群 (created by another app: 86008; owner wangwu; wangwu, lisi).

WeDrive: space ``space_lisi`` 李四的空间 with ``file_lisi_visits`` 客户拜访记录.txt,
``file_lisi_quote`` 报价单-2025Q3.csv, folder ``folder_lisi_contracts`` 合同 holding
``file_lisi_contract_list`` 合同清单.md (real text bytes); space ``space_shared`` 公司共享空间 with
``file_shared_handbook`` 员工手册.pdf (2 MiB, generated content).

Seed ``members:N`` (e.g. ``members:10000``)
------------------------------------------
Departments 1 (root), 2 … 11 (部门01 … 部门10), 99 离职人员. ``zhangsan`` (creator, admin), ``admin01`` and
``admin02`` (admins) in dept 1; members ``u000001`` … (6 digits) spread over depts 2–11, each with 3
customers ``wm_u000001_1`` … ``_3`` and one customer group ``wr_u000001``.
"""

from __future__ import annotations

import hashlib

from offboarding_dev.sandbox.content import generated_digests
from offboarding_dev.sandbox.world import (
    STATUS_DISABLED,
    STATUS_NOT_ACTIVATED,
    STATUS_QUIT,
    AppChat,
    Customer,
    Department,
    GroupChat,
    GroupMember,
    Member,
    Tag,
    WeDriveFile,
    WeDriveSpace,
    World,
)

DAY = 86400
KNOWN_SEEDS = ("default", "members:N")
MAX_SEEDED_MEMBERS = 200_000


def build_world(seed: str, now: float) -> World:
    """A fresh corp for ``seed``; raises ValueError naming the seed when it is unknown or malformed."""
    if seed == "default":
        return _default(now)
    if seed.startswith("members:"):
        count_text = seed.removeprefix("members:")
        if not count_text.isdigit() or not 1 <= int(count_text) <= MAX_SEEDED_MEMBERS:
            raise ValueError(
                f"seed {seed!r}: N in members:N must be a whole number from 1 to {MAX_SEEDED_MEMBERS}"
            )
        return _members(int(count_text), now)
    raise ValueError(f"unknown seed {seed!r}; known seeds: {', '.join(KNOWN_SEEDS)}")


def _departments(world: World, extra: list[tuple[int, str]]) -> None:
    world.add_department(Department(1, "示例科技有限公司", 0, 1))
    for order, (dept_id, name) in enumerate(extra, start=2):
        world.add_department(Department(dept_id, name, 1, order))
    world.add_department(Department(99, "离职人员", 1, 99))


def _member(
    userid: str, name: str, dept: int, position: str = "", email: str | None = None, **kwargs: object
) -> Member:
    return Member(
        userid=userid,
        name=name,
        department=[dept],
        main_department=dept,
        position=position,
        email=email or f"{userid}@example.com",
        **kwargs,  # type: ignore[arg-type]
    )


def _customers(world: World, follower: str, prefix: str, count: int, width: int, created: int) -> list[str]:
    ids = []
    for i in range(1, count + 1):
        external_userid = f"{prefix}{i:0{width}d}"
        world.add_customer(
            Customer(external_userid, name=f"客户{external_userid[-width:]}", corp_name="客户公司"),
            [follower],
            created,
        )
        ids.append(external_userid)
    return ids


def _group(world: World, chat_id: str, name: str, owner: str, customers: list[str], created: int) -> None:
    members = [GroupMember(owner, 1, created)] + [GroupMember(c, 2, created, 3) for c in customers]
    world.add_group_chat(GroupChat(chat_id, name, owner, created, members, notice=f"{name}群公告"))


def _text_file(
    world: World, fileid: str, spaceid: str, fatherid: str, name: str, text: str, created: int
) -> None:
    data = text.encode()
    world.add_file(
        WeDriveFile(
            fileid=fileid,
            spaceid=spaceid,
            fatherid=fatherid,
            file_name=name,
            file_type=2,
            file_size=len(data),
            ctime=created,
            mtime=created,
            md5=hashlib.md5(data).hexdigest(),
            sha=hashlib.sha1(data).hexdigest(),
            content=data,
        )
    )


def _default(now: float) -> World:
    world = World()
    created = int(now) - 200 * DAY
    _departments(world, [(2, "研发部"), (3, "销售部"), (4, "财务部")])
    world.add_member(_member("zhangsan", "张三", 1, "总经理", is_creator=True, is_admin=True))
    world.add_member(_member("admin01", "管理员", 1, "IT管理员", is_admin=True))
    world.add_member(
        _member("lisi", "李四", 3, "销售经理", is_leader_in_dept=[1], direct_leader=["zhangsan"])
    )
    world.add_member(_member("wangwu", "王五", 3, "销售", direct_leader=["lisi"]))
    world.add_member(_member("zhaoliu", "赵六", 2, "工程师"))
    world.add_member(_member("sunqi", "孙七", 1, "法定代表人", roles=["legal_representative"]))
    world.add_member(_member("zhouba", "周八", 4, "财务负责人", roles=["finance_owner"]))
    world.add_member(_member("wujiu", "吴九", 4, "会计", roles=["tax_filer"]))
    world.add_member(_member("zhengshi", "郑十", 2, "工程师"))
    world.add_member(_member("bigsales", "钱多多", 3, "大客户经理"))
    world.add_member(_member("groupowner", "郭群主", 3, "销售"))
    world.add_member(_member("fullsales", "满额", 3, "销售", customer_limit=3))
    world.add_member(_member("disabled01", "停用者", 2, "工程师", status=STATUS_DISABLED))
    world.add_member(_member("inactive01", "未激活", 2, "实习生", status=STATUS_NOT_ACTIVATED))
    world.add_member(_member("quit01", "已退出", 2, "工程师", status=STATUS_QUIT))
    world.add_member(_member("Lin..Feng@corp.cn", "林峰", 3, "销售", email="linfeng@example.com"))
    world.add_member(_member("resigned01", "已离职", 3, "销售"))

    lisi_customers = _customers(world, "lisi", "wm_lisi_", 12, 3, created)
    world.customers["wm_lisi_011"].onjob_transfer_times = [now - 40 * DAY, now - 10 * DAY]
    world.customers["wm_lisi_012"].refuses_takeover = True
    world.customers["wm_lisi_010"].onjob_transfer_times = [now - 30 * DAY]
    _customers(world, "wangwu", "wm_wangwu_", 2, 3, created)
    big_customers = _customers(world, "bigsales", "wm_big_", 250, 4, created)
    _customers(world, "fullsales", "wm_full_", 3, 3, created)
    linfeng_customers = _customers(world, "Lin..Feng@corp.cn", "wm_linfeng_", 3, 3, created)
    resigned_customers = _customers(world, "resigned01", "wm_resigned_", 3, 3, created)

    for i in range(3):
        _group(
            world,
            f"wr_lisi_{i + 1:02d}",
            f"李四客户群{i + 1}",
            "lisi",
            lisi_customers[i * 4 : i * 4 + 3],
            created,
        )
    for i in range(120):
        customers = [big_customers[(2 * i) % 250], big_customers[(2 * i + 1) % 250]]
        _group(world, f"wr_big_{i + 1:04d}", f"大客户群{i + 1}", "bigsales", customers, created)
    many_customers = _customers(world, "groupowner", "wm_many_", 1, 3, created)
    for i in range(305):
        _group(world, f"wr_many_{i + 1:04d}", f"群主的群{i + 1}", "groupowner", many_customers, created)
    _group(world, "wr_linfeng_01", "林峰客户群", "Lin..Feng@corp.cn", linfeng_customers[:2], created)
    for i in range(2):
        _group(
            world,
            f"wr_resigned_{i + 1:02d}",
            f"离职客户群{i + 1}",
            "resigned01",
            resigned_customers[i : i + 2],
            created,
        )

    sales_team = world.add_tag(
        Tag(1, "销售一组", created_by_app=True), ["lisi", "wangwu", "bigsales", "fullsales"]
    )
    sales_team.parties.append(3)
    world.add_tag(Tag(2, "重点客户负责人", created_by_app=True), ["lisi", "bigsales"])
    world.add_tag(Tag(3, "全员通知", created_by_app=False), ["lisi", "wangwu", "zhaoliu", "bigsales"])

    world.add_app_chat(
        AppChat("chat_sales_weekly", "销售周会", "lisi", ["lisi", "wangwu", "zhaoliu", "bigsales"])
    )
    world.add_app_chat(
        AppChat("chat_other_app", "其他应用的群", "wangwu", ["wangwu", "lisi"], created_by_app=False)
    )

    world.add_space(WeDriveSpace("space_lisi", "李四的空间", owner="lisi"))
    _text_file(
        world,
        "file_lisi_visits",
        "space_lisi",
        "space_lisi",
        "客户拜访记录.txt",
        "2025-06-03 拜访 客户001，确认续约意向。\n2025-06-10 拜访 客户002，报价待确认。\n",
        created,
    )
    _text_file(
        world,
        "file_lisi_quote",
        "space_lisi",
        "space_lisi",
        "报价单-2025Q3.csv",
        "客户,产品,单价,数量\n客户001,标准版,1200,10\n客户002,企业版,5800,2\n",
        created,
    )
    world.add_file(
        WeDriveFile("folder_lisi_contracts", "space_lisi", "space_lisi", "合同", 1, 0, created, created)
    )
    _text_file(
        world,
        "file_lisi_contract_list",
        "space_lisi",
        "folder_lisi_contracts",
        "合同清单.md",
        "# 合同清单\n\n- HT-2025-001 客户001 标准版\n- HT-2025-002 客户002 企业版\n",
        created,
    )
    world.add_space(WeDriveSpace("space_shared", "公司共享空间"))
    handbook_size = 2 * 1024 * 1024
    md5, sha = generated_digests("file_shared_handbook", handbook_size)
    world.add_file(
        WeDriveFile(
            "file_shared_handbook",
            "space_shared",
            "space_shared",
            "员工手册.pdf",
            2,
            handbook_size,
            created,
            created,
            md5,
            sha,
        )
    )

    world.delete_member(world.members["resigned01"], now - 30 * DAY)
    return world


def _members(count: int, now: float) -> World:
    world = World()
    created = int(now) - 200 * DAY
    _departments(world, [(d, f"部门{d - 1:02d}") for d in range(2, 12)])
    world.add_member(_member("zhangsan", "张三", 1, "总经理", is_creator=True, is_admin=True))
    world.add_member(_member("admin01", "管理员一", 1, "IT管理员", is_admin=True))
    world.add_member(_member("admin02", "管理员二", 1, "IT管理员", is_admin=True))
    members, chats = world.members, world.group_chats
    for n in range(1, count + 1):
        userid = f"u{n:06d}"
        dept = 2 + n % 10
        member = Member(userid, f"成员{n:06d}", [dept], dept, [0], [0], email=f"{userid}@example.com")
        members[userid] = member
        world.member_order.add(userid)
        group_members = [GroupMember(userid, 1, created)]
        for k in range(1, 4):
            external_userid = f"wm_{userid}_{k}"
            customer = Customer(external_userid, f"客户{n:06d}-{k}")
            world.add_customer(customer, [userid], created)
            group_members.append(GroupMember(external_userid, 2, created, 3))
        chat_id = f"wr_{userid}"
        chats[chat_id] = GroupChat(chat_id, f"客户群{n:06d}", userid, created, group_members)
        world.group_order.add(chat_id)
        member.group_chats.add(chat_id)
    return world
