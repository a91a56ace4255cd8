"""`flask --app api clinics apply FILE.toml [--dry-run]`: create or update a clinic from one file.

Python reads the TOML and checks its shape — which tables and keys exist, and what kind of value
each holds — so a typo is named with its place in the file. Everything else is one service_role
RPC, public.apply_clinic (supabase/migrations/20261125000850_clinic_apply.sql), in one
transaction: whether the values are acceptable, what to create, update, deactivate or remove, and
what changed. A second apply of the same file prints "no changes". docs/clinic.example.toml shows
every key; the README's "Adding a clinic" says what each section does.

Vapi ids the file maps to the clinic for the first time are confirmed with Vapi first, as
`assistants map` does (api/cli/assistants.py): with the clinic's stored Vapi API key, an id Vapi
does not know in that account refuses the whole apply; without a stored key (a new clinic) they are
mapped with a warning that they were not confirmed.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from ..gateway import RpcError
from ..normalize import NormalizationError, normalize_phone
from .assistants import VapiId, clinic_vapi_key, confirm_with_vapi
from .common import UNREACHABLE, gateway

clinics_cli = AppGroup("clinics", help="Create or update clinics from TOML files (operator only).")


def init_app(app: Flask) -> None:
    app.cli.add_command(clinics_cli)


# ---------------------------------------------------------------------------------------------
# The file's shape
# ---------------------------------------------------------------------------------------------

INSTANT = "a date (2026-12-25) or a date-time (2026-12-24T12:00)"


@dataclass(frozen=True)
class Table:
    keys: dict[str, Any]
    required: tuple[str, ...] = ()


@dataclass(frozen=True)
class ListOf:
    item: Any


WEEK = "week"  # {weekday: ["08:00-12:00", ...]}: weekday names and ranges are read by SQL
PERIOD = Table({"date": INSTANT, "from": INSTANT, "to": INSTANT, "reason": str})

SPEC = Table({
    "clinic": Table({"slug": str, "id": str, "name": str, "timezone": str, "phone_region": str,
                     "slot_interval_minutes": int, "min_notice_minutes": int, "booking_horizon_days": int},
                    required=("slug",)),
    "hours": WEEK,
    "closures": ListOf(PERIOD),
    "services": ListOf(Table({"code": str, "name": str, "duration_minutes": int, "buffer_minutes": int,
                              "default": bool, "aliases": ListOf(str)},
                             required=("code", "name", "duration_minutes"))),
    "providers": ListOf(Table({"name": str, "short_names": ListOf(str), "role": str, "services": ListOf(str),
                               "color": str,
                               "hours": WEEK, "time_off": ListOf(PERIOD)},
                              required=("name", "services"))),
    "assistants": ListOf(Table({"assistant_id": str, "phone_number_id": str, "label": str, "name": str,
                                "prompt": str})),
    "front_desk": Table({"number": str, "transfer_message": str, "hours": WEEK}),
    "calls": Table({"first_message": str, "transcript_retention_days": int, "server_credential_id": str,
                    "voice": dict, "model": dict}),
}, required=("clinic",))

_KINDS = {str: "text", int: "a whole number", bool: "true or false", dict: "a table"}


def _kind(shape) -> str:
    if shape == WEEK:
        return 'a table of weekdays (monday = ["08:00-12:00"])'
    if isinstance(shape, Table):
        return "a table"
    if isinstance(shape, ListOf):
        return f"a list of {_kind(shape.item) if not isinstance(shape.item, Table) else 'tables'}"
    return _KINDS.get(shape, shape)


def _as_json(value, shape, path: str, problems: list[str]):
    """`value` checked against `shape` and made JSON (dates as ISO text); problems appended."""
    if isinstance(shape, Table):
        if not isinstance(value, dict):
            problems.append(f"{path}: must be {_kind(shape)}")
            return None
        result = {}
        for key, item in value.items():
            where = f"{path}.{key}" if path else key
            if key not in shape.keys:
                known = ", ".join(shape.keys)
                problems.append(f"{where}: unknown key (known here: {known})")
                continue
            result[key] = _as_json(item, shape.keys[key], where, problems)
        for key in shape.required:
            if key not in value:
                problems.append(f"{path + '.' if path else ''}{key}: required")
        return result
    if isinstance(shape, ListOf):
        if not isinstance(value, list):
            problems.append(f"{path}: must be {_kind(shape)}")
            return None
        return [_as_json(item, shape.item, f"{path}[{n}]", problems) for n, item in enumerate(value, start=1)]
    if shape == WEEK:
        if not isinstance(value, dict):
            problems.append(f"{path}: must be {_kind(shape)}")
            return None
        week = {}
        for day, ranges in value.items():
            ranges = [ranges] if isinstance(ranges, str) else ranges
            if not isinstance(ranges, list) or not all(isinstance(r, str) for r in ranges):
                problems.append(f'{path}.{day}: must be a list of time ranges like ["08:00-12:00"]')
                continue
            week[day] = list(ranges)
        return week
    if shape == INSTANT:
        if isinstance(value, str):
            return value  # SQL reads it (and names it when it cannot)
        if isinstance(value, (dt.datetime, dt.date)):
            return value.isoformat()  # a local date-time stays local: the clinic's wall clock
        problems.append(f"{path}: must be {INSTANT}")
        return None
    # bool is an int in Python; TOML keeps them apart, so must this
    if shape is int and (isinstance(value, bool) or not isinstance(value, int)):
        problems.append(f"{path}: must be {_kind(shape)}")
        return None
    if not isinstance(value, shape):
        problems.append(f"{path}: must be {_kind(shape)}")
        return None
    return value


def _front_desk_number(spec: dict, problems: list[str]) -> None:
    """The front desk number in E.164, read as a caller's number is (api.normalize.normalize_phone) in
    the file's phone region; without one only a number with its country code can be read."""
    number = (spec.get("front_desk") or {}).get("number")
    if not isinstance(number, str) or not number.strip():
        return
    region = (spec.get("clinic") or {}).get("phone_region")
    if not number.strip().startswith("+") and not region:
        problems.append(f"front_desk.number: {number!r} has no country code; write it as +<country> … "
                        "or set clinic.phone_region")
        return
    try:
        spec["front_desk"]["number"] = normalize_phone(number, region or "US")
    except NormalizationError:
        problems.append(f"front_desk.number: {number!r} is not a phone number")


class SpecError(click.ClickException):
    """Problems with the file or the spec: one line each, and nothing was changed."""

    def __init__(self, source: str, problems: list[str]):
        lines = "\n".join(f"  {problem}" for problem in problems)
        super().__init__(f"{len(problems)} problem(s) in {source}; nothing was changed:\n{lines}")
        self.problems = problems


def read_spec(text: str, source: str) -> dict:
    """The spec of a TOML text, as apply_clinic takes it; SpecError when its shape is wrong."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(source, [f"not valid TOML: {exc}"]) from None
    problems: list[str] = []
    spec = _as_json(document, SPEC, "", problems)
    if not problems:
        _front_desk_number(spec, problems)
    if problems:
        raise SpecError(source, problems)
    return spec


# ---------------------------------------------------------------------------------------------
# apply
# ---------------------------------------------------------------------------------------------


def _apply(spec: dict, source: str, dry_run: bool) -> dict:
    try:
        reply = gateway().rpc("apply_clinic", {"p_spec": spec, "p_dry_run": dry_run})
    except RpcError:
        raise click.ClickException(UNREACHABLE) from None
    if reply.get("error") == "invalid_spec":
        raise SpecError(source, [str(p) for p in reply.get("problems") or []] or [str(reply.get("message"))])
    if not reply.get("success"):
        raise click.ClickException(f"{reply.get('error')}: {reply.get('message', '')}")
    return reply


def _confirm_new_vapi_ids(spec: dict, source: str) -> None:
    """Ids new to the clinic (a dry run names them) are confirmed with the clinic's Vapi key, if stored."""
    preview = _apply(spec, source, dry_run=True)
    new_ids = preview.get("newVapiIds") or []
    if not new_ids:
        return
    api_key = None if preview.get("created") else clinic_vapi_key(preview["orgId"])
    for item in new_ids:
        vapi_id = VapiId.of(item["kind"], item["id"])
        if api_key:
            confirm_with_vapi(current_app.config["VAPI_API_URL"], api_key, vapi_id)
        else:
            click.echo(f"warning: {vapi_id.kind} {vapi_id.value} is mapped without asking Vapi whether it belongs to "
                       "this clinic's account: the clinic has no stored Vapi API key (credential vapi/api_key)", err=True)


def _line(change: dict) -> str:
    op, item = change.get("op"), change.get("item")
    if op == "+":
        return f"+ {item}: {change.get('after')}"
    if op == "-":
        return f"- {item}: {change.get('before')}"
    return f"~ {item}: {change.get('before')} -> {change.get('after')}"


@clinics_cli.command("apply")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option("--dry-run", is_flag=True, help="Check and print what would change; write nothing.")
def apply_command(file, dry_run: bool) -> None:
    """Create or update the clinic described by FILE (TOML; see docs/clinic.example.toml).

    Idempotent: applying the same file again prints "no changes". A section left out of the file is
    left as it is; a section written is the whole truth for that part of the clinic. Nothing a
    booking points at is deleted: such a service or provider is deactivated (and said so).
    """
    source = file.name
    spec = read_spec(file.read(), source)
    if spec.get("assistants") and not dry_run:
        _confirm_new_vapi_ids(spec, source)
    reply = _apply(spec, source, dry_run)
    changes = reply.get("changes") or []
    what = "created" if reply.get("created") else ("updated" if changes else "no changes")
    org = f"org {reply['orgId']}" if reply.get("orgId") else "a new org"
    click.echo(f"clinic {reply['slug']} ({org}): {what}" + (" (dry run: nothing was written)" if dry_run else ""))
    for change in changes:
        click.echo(_line(change))
    for note in reply.get("notes") or []:
        click.echo(f"note: {note}")
    if changes and not dry_run:
        click.echo(f"a running service sees these changes within {current_app.config['PROFILE_CACHE_SECONDS']:g} s "
                   "(PROFILE_CACHE_SECONDS)")
