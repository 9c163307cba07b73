"""Turn a case conf's JSON-schema errors into ``FieldProblem``s that name the field and say what to fix."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from offboarding.cases.fields import PATTERN_HINTS

_TYPE_WORDS = {
    "string": "text",
    "array": "a list",
    "object": "an object",
    "boolean": "true or false",
    "number": "a number",
    "integer": "a whole number",
    "null": "empty",
}
_FORMAT_WORDS = {"date": "a date written YYYY-MM-DD", "date-time": "a date and time (ISO 8601)"}


@dataclass(frozen=True)
class FieldProblem:
    """One thing wrong with a case: the field (``notify.userids[0]`` for nested values) and why."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


def field_path(path: Iterable[Any]) -> str:
    """``["notify", "userids", 0]`` → ``notify.userids[0]``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(case)"


def _type_words(expected: Any) -> str:
    names = expected if isinstance(expected, list) else [expected]
    return " or ".join(_TYPE_WORDS.get(n, n) for n in names)


def _message(error: ValidationError, properties: Mapping[str, Any]) -> list[FieldProblem]:
    where = field_path(error.absolute_path)
    value = error.instance
    kind = error.validator
    if kind == "required":
        missing = [name for name in error.validator_value if name not in (value or {})]
        return [
            FieldProblem(field_path([*error.absolute_path, name]), "is required" + _titled(properties, name))
            for name in missing
        ]
    if kind == "additionalProperties":
        from difflib import get_close_matches

        known = list(error.schema.get("properties", {}))
        extras = [name for name in value if name not in known]
        problems = []
        for name in extras:
            close = get_close_matches(str(name), known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; known fields: {', '.join(known)}"
            problems.append(FieldProblem(field_path([*error.absolute_path, name]), "unknown field" + hint))
        return problems
    if kind == "type":
        return [FieldProblem(where, f"must be {_type_words(error.validator_value)}, got {value!r}")]
    if kind == "pattern":
        hint = PATTERN_HINTS.get(error.validator_value, f"text matching {error.validator_value}")
        return [FieldProblem(where, f"{value!r} is not {hint}")]
    if kind == "format":
        words = _FORMAT_WORDS.get(error.validator_value, f"in format {error.validator_value}")
        return [FieldProblem(where, f"{value!r} is not {words}")]
    if kind == "enum":
        allowed = ", ".join(repr(v) for v in error.validator_value)
        return [FieldProblem(where, f"{value!r} is not one of {allowed}")]
    if kind == "minItems":
        count = error.validator_value
        return [FieldProblem(where, f"needs at least {count} {'entry' if count == 1 else 'entries'}")]
    if kind == "uniqueItems":
        seen: list[Any] = []
        dupes: list[Any] = []
        for item in value:
            if item in seen and item not in dupes:
                dupes.append(item)
            seen.append(item)
        return [FieldProblem(where, f"lists {', '.join(repr(d) for d in dupes)} more than once")]
    if kind == "maxItems":
        return [
            FieldProblem(
                where, f"has {len(value):,} entries, more than the {error.validator_value:,} allowed"
            )
        ]
    if kind == "minLength":
        return [FieldProblem(where, "must not be empty" if error.validator_value == 1 else error.message)]
    if kind == "maxLength":
        return [FieldProblem(where, f"is longer than {error.validator_value} characters")]
    if kind in ("minimum", "exclusiveMinimum"):
        return [FieldProblem(where, f"must be at least {error.validator_value}, got {value!r}")]
    return [FieldProblem(where, error.message)]


def _titled(properties: Mapping[str, Any], name: str) -> str:
    title = properties.get(name, {}).get("title")
    return f": {title}" if title else ""


def schema_problems(
    schema: Mapping[str, Any], conf: Any, *, skip_fields: Iterable[str] = ()
) -> list[FieldProblem]:
    """Every JSON-schema problem of ``conf``, one per field and cause, in field order.

    ``skip_fields`` are top-level fields whose problems a cross-field check reports better.
    """
    if not isinstance(conf, Mapping):
        return [FieldProblem("(case)", f"must be an object of fields, got {type(conf).__name__}")]
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    skip = set(skip_fields)
    properties = schema.get("properties", {})
    order = {name: i for i, name in enumerate(properties)}
    problems: list[FieldProblem] = []
    for error in validator.iter_errors(dict(conf)):
        top = error.absolute_path[0] if error.absolute_path else None
        if top in skip:
            continue
        for problem in _message(error, properties):
            # One problem per field: the first keyword that fails (type, then length, then pattern...).
            if problem.field not in {p.field for p in problems}:
                problems.append(problem)
    problems.sort(key=lambda p: order.get(p.field.split(".")[0].split("[")[0], len(order)))
    return problems
