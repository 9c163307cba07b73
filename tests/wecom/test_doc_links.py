"""Every WeCom client method that calls an endpoint links the endpoint's official documentation page.

A reviewer checks a request's shape and limits in one click, as wechatpy's docstrings allow. The
endpoints a method calls are read from its code (string literals and module constants that look like
``user/delete``, through the ``self.`` helpers it calls); its docstring must name each of them with
its page below. The pages are the self-built-app (企业内部开发) editions listed in the team's WeCom
reference; a new endpoint needs its page here and in the method's docstring.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
import textwrap
from types import ModuleType

import pytest

import offboarding.wecom

BASE = "https://developer.work.weixin.qq.com/document/path/"
PAGES = {
    "user/get": 90196,
    "user/update": 90197,
    "user/delete": 90198,
    "user/batchdelete": 90199,
    "user/list_id": 96067,
    "department/list": 90208,
    "tag/list": 90216,
    "tag/get": 90213,
    "tag/deltagusers": 90215,
    "tag/addtagusers": 90214,
    "appchat/get": 98914,
    "appchat/update": 98913,
    "externalcontact/list": 92113,
    "externalcontact/batch/get_by_user": 92994,
    "externalcontact/groupchat/list": 92120,
    "externalcontact/groupchat/get": 92122,
    "externalcontact/get_unassigned_list": 92124,
    "externalcontact/transfer_customer": 92125,
    "externalcontact/resigned/transfer_customer": 94081,
    "externalcontact/transfer_result": 94088,
    "externalcontact/resigned/transfer_result": 94082,
    "externalcontact/groupchat/onjob_transfer": 95703,
    "externalcontact/groupchat/transfer": 92127,
    "wedrive/file_list": 96847,
    "wedrive/file_download": 97915,
    "message/send": 90236,
    "webhook/send": 91770,
    "gettoken": 91039,
}
ENDPOINT = re.compile(r"^(?:/cgi-bin/)?([a-z_]+(?:/[a-z_]+)+)$")
# The transport: it calls whatever path it is given (gettoken is linked on access_token all the same).
TRANSPORT = {"WeComClient"}


def _modules() -> list[ModuleType]:
    names = [m.name for m in pkgutil.iter_modules(offboarding.wecom.__path__, "offboarding.wecom.")]
    return [importlib.import_module(name) for name in sorted(names)]


def _endpoints_in(node: ast.AST, module: ModuleType) -> tuple[set[str], set[str]]:
    """The endpoints named in ``node`` and the ``self.<method>`` calls it makes."""
    found: set[str] = set()
    calls: set[str] = set()
    for sub in ast.walk(node):
        value = None
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            value = sub.value
        elif isinstance(sub, ast.Name) and isinstance(getattr(module, sub.id, None), str):
            value = getattr(module, sub.id)
        if value is not None and (match := ENDPOINT.match(value)):
            found.add(match.group(1))
        if (
            isinstance(sub, ast.Call)
            and isinstance(sub.func, ast.Attribute)
            and isinstance(sub.func.value, ast.Name)
            and sub.func.value.id == "self"
        ):
            calls.add(sub.func.attr)
    return found, calls


def _api_methods() -> list[tuple[str, str, set[str], str]]:
    """``(class, method, endpoints, docstring)`` for every public method that calls an endpoint."""
    rows = []
    for module in _modules():
        for cls_name, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != module.__name__ or cls_name in TRANSPORT:
                continue
            tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
            functions = {
                f.name: _endpoints_in(f, module)
                for f in tree.body[0].body  # type: ignore[attr-defined]
                if isinstance(f, ast.FunctionDef)
            }

            def reach(name: str, seen: set[str], functions: dict = functions) -> set[str]:
                if name in seen or name not in functions:
                    return set()
                seen.add(name)
                direct, calls = functions[name]
                return direct.union(*(reach(c, seen) for c in calls))

            for name in functions:
                if name.startswith("_"):
                    continue
                endpoints = reach(name, set())
                if endpoints:
                    rows.append((cls_name, name, endpoints, inspect.getdoc(getattr(cls, name)) or ""))
    return rows


API_METHODS = _api_methods()


def test_the_api_groups_are_found() -> None:
    classes = {row[0] for row in API_METHODS}
    assert classes >= {
        "Contacts",
        "Tags",
        "AppChats",
        "CustomerContacts",
        "WeDrive",
        "AppMessages",
        "GroupRobot",
    }
    assert ("Contacts", "delete_user") in {(c, m) for c, m, _, _ in API_METHODS}


@pytest.mark.parametrize(
    ("cls", "method", "endpoints", "doc"), API_METHODS, ids=[f"{c}.{m}" for c, m, _, _ in API_METHODS]
)
def test_each_method_links_the_page_of_every_endpoint_it_calls(
    cls: str, method: str, endpoints: set[str], doc: str
) -> None:
    unknown = sorted(e for e in endpoints if e not in PAGES)
    assert not unknown, f"{cls}.{method} calls {unknown}: add its official page to PAGES and the docstring"
    assert BASE in doc, f"{cls}.{method}'s docstring links no official documentation page"
    for endpoint in sorted(endpoints):
        link = f"{BASE}{PAGES[endpoint]}"
        assert f"``{endpoint}``" in doc and link in doc, f"{cls}.{method} must name ``{endpoint}`` and {link}"


def test_the_token_call_links_its_page() -> None:
    from offboarding.wecom.client import WeComClient

    assert f"{BASE}{PAGES['gettoken']}" in (WeComClient.access_token.__doc__ or "")
