"""Create and rotate the secrets that every Airflow service of the compose deployment must share.

The ``airflow-init`` service runs ``shared_secrets.py ensure`` before ``airflow db migrate`` on every
``docker compose up``. It is idempotent:

* ``[core] fernet_key`` (encrypts connections, variables and trigger arguments in the database),
  ``[api_auth] jwt_secret`` (signs the tokens of the UI, the REST API and the Execution API that workers
  call) and ``[api] secret_key`` (sessions, log fetching) are written ONCE into the Airflow config file on
  the shared config volume (``AIRFLOW_CONFIG``). Every service reads that same file, so the values are the
  same everywhere, and they are never committed, never put in an environment variable, never printed.
* The SimpleAuthManager passwords file gets a generated password for every user listed in
  ``AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS`` that has none yet. Generating them here, rather than letting
  the api-server do it, keeps passwords out of the api-server log.

Both files are created with mode 0600 and replaced atomically. Existing values are never overwritten
except by the explicit ``rotate`` / ``retire-old-fernet-keys`` / ``new-password`` commands (see
deploy/README.md, "Rotating secrets"). Standard library only, so it also runs outside the image.
"""

from __future__ import annotations

import argparse
import base64
import configparser
import io
import json
import os
import secrets
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

# name used on the command line -> (section, option) in airflow.cfg
SHARED_SECRETS: dict[str, tuple[str, str]] = {
    "fernet_key": ("core", "fernet_key"),
    "jwt_secret": ("api_auth", "jwt_secret"),
    "secret_key": ("api", "secret_key"),
}
SIMPLE_AUTH_MANAGER_ROLES = ("viewer", "user", "op", "admin")
USERS_SETTING = "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"
PASSWORDS_FILE_SETTING = "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"
CONFIG_FILE_SETTING = "AIRFLOW_CONFIG"

_PASSWORD_ALPHABET = "abcdefghkmnpqrstuvwxyzABCDEFGHKMNPQRSTUVWXYZ23456789"  # no look-alike characters
_PASSWORD_LENGTH = 20
_HEADER = (
    "# Secrets shared by every Airflow service of this deployment.\n"
    "# Written by deploy/shared_secrets.py (the airflow-init service); rotate with the same script.\n"
    "# Never commit, copy or paste this file. Everything else is configured in docker-compose.yaml.\n"
)


class DeploymentConfigError(Exception):
    """A setting or file of the deployment is unusable; the message says which one and what to do."""


@dataclass(frozen=True)
class AirflowUser:
    """One SimpleAuthManager user: the sign-in name and its role."""

    username: str
    role: str


def new_fernet_key() -> str:
    """A fresh Fernet key: 32 random bytes, url-safe base64 (the format ``cryptography.Fernet`` expects)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii")


def new_signing_secret() -> str:
    """A fresh random secret for JWT signing (HS512) or the api-server secret key: 64 random bytes."""
    return secrets.token_urlsafe(64)


def new_password() -> str:
    """A fresh sign-in password for a SimpleAuthManager user."""
    return "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(_PASSWORD_LENGTH))


def _new_value(name: str) -> str:
    return new_fernet_key() if name == "fernet_key" else new_signing_secret()


def parse_users(spec: str) -> list[AirflowUser]:
    """Parse the ``user:role,user:role`` list of AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS."""
    users: list[AirflowUser] = []
    for raw in spec.split(","):
        item = raw.strip()
        if not item:
            continue
        parts = item.split(":")
        if len(parts) not in (2, 3) or not parts[0] or not parts[1]:
            raise DeploymentConfigError(
                f"{USERS_SETTING}: entry {item!r} must look like 'name:role' (roles: "
                f"{', '.join(SIMPLE_AUTH_MANAGER_ROLES)})"
            )
        username, role = parts[0], parts[1].lower()
        if role not in SIMPLE_AUTH_MANAGER_ROLES:
            raise DeploymentConfigError(
                f"{USERS_SETTING}: user {username!r} has unknown role {parts[1]!r}; "
                f"use one of {', '.join(SIMPLE_AUTH_MANAGER_ROLES)}"
            )
        if any(u.username == username for u in users):
            raise DeploymentConfigError(f"{USERS_SETTING}: user {username!r} is listed twice")
        users.append(AirflowUser(username, role))
    if not users:
        raise DeploymentConfigError(f"{USERS_SETTING}: no users configured; nobody could sign in")
    return users


def write_private_file(path: Path, text: str) -> None:
    """Replace ``path`` atomically with ``text``, readable and writable by the owner only (0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, 0o600)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def _read_config(path: Path) -> configparser.ConfigParser:
    # No interpolation: values (and an Airflow-generated file's '%%' escapes) are kept byte for byte.
    parser = configparser.ConfigParser(interpolation=None)
    if path.exists():
        try:
            parser.read(path, encoding="utf-8")
        except configparser.Error as exc:
            raise DeploymentConfigError(f"Airflow config file {path} cannot be parsed: {exc}") from None
    return parser


def _write_config(path: Path, parser: configparser.ConfigParser) -> None:
    body = io.StringIO()
    parser.write(body)
    write_private_file(path, _HEADER + "\n" + body.getvalue())


def _get(parser: configparser.ConfigParser, name: str) -> str:
    section, option = SHARED_SECRETS[name]
    return parser.get(section, option, fallback="").strip()


def _set(parser: configparser.ConfigParser, name: str, value: str) -> None:
    section, option = SHARED_SECRETS[name]
    if not parser.has_section(section):
        parser.add_section(section)
    parser.set(section, option, value)


def check_no_overrides(environ: Mapping[str, str]) -> None:
    """Refuse environment variables that would make one service use a different secret than the file."""
    found = []
    for section, option in SHARED_SECRETS.values():
        base = f"AIRFLOW__{section.upper()}__{option.upper()}"
        found += [name for name in (base, f"{base}_CMD", f"{base}_SECRET") if environ.get(name)]
    if found:
        raise DeploymentConfigError(
            f"{', '.join(found)} set in the environment would override the shared secrets in the config "
            "file for this service only; remove them from docker-compose.yaml / .env"
        )


def ensure_shared_secrets(config_file: Path) -> list[str]:
    """Write every missing shared secret into ``config_file``; return the names created (never values)."""
    parser = _read_config(config_file)
    created = [name for name in SHARED_SECRETS if not _get(parser, name)]
    for name in created:
        _set(parser, name, _new_value(name))
    if created or not config_file.exists():
        _write_config(config_file, parser)
    else:
        os.chmod(config_file, 0o600)
    return created


def _read_passwords(passwords_file: Path) -> dict[str, str]:
    if not passwords_file.exists():
        return {}
    content = passwords_file.read_text(encoding="utf-8").strip() or "{}"
    try:
        passwords = json.loads(content)
    except json.JSONDecodeError as exc:
        raise DeploymentConfigError(
            f"passwords file {passwords_file} is not valid JSON ({exc.msg}, line {exc.lineno}); "
            "fix or remove it (removing it generates new passwords for every user)"
        ) from None
    if not isinstance(passwords, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in passwords.items()
    ):
        raise DeploymentConfigError(
            f'passwords file {passwords_file} must be a JSON object {{"user": "password"}}'
        )
    return passwords


def ensure_passwords(passwords_file: Path, users: Sequence[AirflowUser]) -> list[str]:
    """Give every user without a password a generated one; return the user names added (never passwords)."""
    passwords = _read_passwords(passwords_file)
    added = [user.username for user in users if user.username not in passwords]
    for username in added:
        passwords[username] = new_password()
    if added or not passwords_file.exists():
        write_private_file(passwords_file, json.dumps(passwords, indent=2, sort_keys=True) + "\n")
    else:
        os.chmod(passwords_file, 0o600)
    return added


def reset_password(passwords_file: Path, username: str, users: Sequence[AirflowUser]) -> None:
    """Replace one user's password with a new generated one."""
    if username not in {u.username for u in users}:
        raise DeploymentConfigError(
            f"user {username!r} is not in {USERS_SETTING} ({', '.join(u.username for u in users)})"
        )
    passwords = _read_passwords(passwords_file)
    passwords[username] = new_password()
    write_private_file(passwords_file, json.dumps(passwords, indent=2, sort_keys=True) + "\n")


def rotate_secret(config_file: Path, name: str) -> None:
    """Rotate one shared secret.

    ``fernet_key`` gets a new key in FRONT of the current ones (``new,old``): Airflow encrypts with the
    first key and can still decrypt with the others until ``airflow rotate-fernet-key`` has re-encrypted
    everything and ``retire-old-fernet-keys`` drops them. ``jwt_secret`` and ``secret_key`` are replaced.
    """
    if name not in SHARED_SECRETS:
        raise DeploymentConfigError(f"unknown secret {name!r}; choose one of {', '.join(SHARED_SECRETS)}")
    parser = _read_config(config_file)
    current = _get(parser, name)
    if not current:
        raise DeploymentConfigError(f"{name} is not set in {config_file} yet; run 'ensure' first")
    if name == "fernet_key":
        _set(parser, name, ",".join([new_fernet_key(), *_split_keys(current)]))
    else:
        _set(parser, name, new_signing_secret())
    _write_config(config_file, parser)


def _split_keys(value: str) -> list[str]:
    return [key.strip() for key in value.split(",") if key.strip()]


def retire_old_fernet_keys(config_file: Path) -> int:
    """Keep only the newest Fernet key; return how many old keys were removed."""
    parser = _read_config(config_file)
    keys = _split_keys(_get(parser, "fernet_key"))
    if not keys:
        raise DeploymentConfigError(f"fernet_key is not set in {config_file}; run 'ensure' first")
    if len(keys) > 1:
        _set(parser, "fernet_key", keys[0])
        _write_config(config_file, parser)
    return len(keys) - 1


def _path_from(value: str | None, setting: str, flag: str) -> Path:
    if not value:
        raise DeploymentConfigError(f"{setting} is not set: set it in the environment or pass {flag}")
    return Path(value)


def _passwords_path(args: argparse.Namespace, env: Mapping[str, str]) -> Path:
    value = args.passwords_file or env.get(PASSWORDS_FILE_SETTING)
    return _path_from(value, PASSWORDS_FILE_SETTING, "--passwords-file")


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="shared_secrets.py",
        description="Create and rotate the secrets shared by every Airflow service (never prints them).",
    )
    parser.add_argument("--config-file", help=f"Airflow config file (default: ${CONFIG_FILE_SETTING})")
    parser.add_argument(
        "--passwords-file", help=f"SimpleAuthManager passwords (default: ${PASSWORDS_FILE_SETTING})"
    )
    parser.add_argument("--users", help=f"user:role list (default: ${USERS_SETTING})")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("ensure", help="create missing secrets and passwords; keep existing ones")
    rotate = commands.add_parser("rotate", help="rotate one shared secret (restart every service after)")
    rotate.add_argument("secret", choices=sorted(SHARED_SECRETS))
    commands.add_parser("retire-old-fernet-keys", help="drop old Fernet keys after airflow rotate-fernet-key")
    reset = commands.add_parser("new-password", help="give one user a new generated password")
    reset.add_argument("username")
    return parser


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Command line entry point; returns the process exit code."""
    env = os.environ if environ is None else environ
    args = _build_parser().parse_args(argv)
    try:
        config_file = _path_from(
            args.config_file or env.get(CONFIG_FILE_SETTING), CONFIG_FILE_SETTING, "--config-file"
        )
        if args.command == "ensure":
            check_no_overrides(env)
            users = parse_users(args.users or env.get(USERS_SETTING, ""))
            passwords_file = _passwords_path(args, env)
            _read_passwords(passwords_file)  # a broken passwords file stops us before anything is written
            created = ensure_shared_secrets(config_file)
            added = ensure_passwords(passwords_file, users)
            kept = [name for name in SHARED_SECRETS if name not in created]
            print(f"shared secrets in {config_file}: created {created or 'none'}, kept {kept or 'none'}")
            print(f"sign-in passwords in {passwords_file}: new for {added or 'nobody'}")
        elif args.command == "rotate":
            rotate_secret(config_file, args.secret)
            print(f"rotated {args.secret} in {config_file}; restart every Airflow service (deploy/README.md)")
        elif args.command == "retire-old-fernet-keys":
            removed = retire_old_fernet_keys(config_file)
            print(f"removed {removed} old Fernet key(s) from {config_file}; restart every Airflow service")
        else:
            users = parse_users(args.users or env.get(USERS_SETTING, ""))
            passwords_file = _passwords_path(args, env)
            reset_password(passwords_file, args.username, users)
            print(f"new password for {args.username} written to {passwords_file}")
    except (DeploymentConfigError, OSError) as exc:
        print(f"shared_secrets.py: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
