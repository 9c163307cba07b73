"""Static checks of docker-compose.yaml: the distributed deployment as the ops engineer relies on it.

There is no Docker engine (and no `docker compose` CLI) on the machines that run this suite, so the file is
parsed with PyYAML (merge keys and anchors resolved exactly as Compose resolves them) and checked against
the real parts it names: Airflow's own configuration reference, the project's provider info, the secrets
script of deploy/, the Dockerfile and the env files.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yaml"
DOCKERFILE = ROOT / "Dockerfile"
ENV_EXAMPLE = ROOT / "deploy" / ".env.example"
REHEARSAL_ENV = ROOT / "deploy" / "rehearsal.env"

AIRFLOW_SERVICES = (
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
    "airflow-init",
    "flower",
)
ONE_SHOT_SERVICES = ("airflow-init",)
LONG_RUNNING_AIRFLOW_SERVICES = tuple(s for s in AIRFLOW_SERVICES if s not in ONE_SHOT_SERVICES)
REQUIRED_SERVICES = {
    "postgres",
    "redis",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
    "airflow-init",
    "wecom-sandbox",
}
# Environment variables a single Airflow service may add to the common ones, and why.
EXTRA_ENV_ALLOWED = {"airflow-worker": {"DUMB_INIT_SETSID"}}  # Celery warm shutdown (official file)
SHARED_SECRET_SETTINGS = (
    "AIRFLOW__CORE__FERNET_KEY",
    "AIRFLOW__API_AUTH__JWT_SECRET",
    "AIRFLOW__API__SECRET_KEY",
)

_INTERPOLATION = re.compile(
    r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}|(?P<bare>\$)"
)


# --- helpers -------------------------------------------------------------------------------------------
def interpolate(value: str, env: dict[str, str]) -> str:
    """Resolve Compose's ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}`` and ``$$`` like Compose does."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        if match["bare"]:
            raise AssertionError(f"bare '$' in {value!r}: Compose would interpolate it; write '$$'")
        name, op, arg = match["name"], match["op"], match["arg"]
        current = env.get(name)
        if op == ":-":
            return current if current else arg
        if op == "-":
            return current if current is not None else arg
        if op in (":?", "?"):
            if not current:
                raise AssertionError(f"{name} is required: {arg}")
            return current
        return current or ""

    return _INTERPOLATION.sub(replace, value)


def read_env_file(path: Path) -> dict[str, str]:
    """Parse a Compose env file (KEY=VALUE, comments, optional single/double quotes)."""
    values: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        assert sep, f"{path.name}: line {raw!r} is not KEY=VALUE"
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def load_module(path: Path) -> ModuleType:
    """Import a script of deploy/ (not a package) by path, once."""
    name = f"deploy_{path.stem}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is created
    spec.loader.exec_module(module)
    return module


def airflow_config_defaults() -> dict[str, Any]:
    """Airflow's own option reference (``config_templates/config.yml``): sections, options, defaults."""
    spec = importlib.util.find_spec("airflow")
    assert spec is not None and spec.submodule_search_locations
    config_yml = Path(next(iter(spec.submodule_search_locations))) / "config_templates" / "config.yml"
    return dict(yaml.safe_load(config_yml.read_text(encoding="utf-8")))


def airflow_config_reference() -> dict[str, set[str]]:
    """Every [section] option Airflow 3.3.2 and the installed Celery provider know, from their own reference."""
    options = {section: set(body["options"]) for section, body in airflow_config_defaults().items()}
    from airflow.providers.celery.get_provider_info import get_provider_info

    for section, body in get_provider_info()["config"].items():
        options.setdefault(section, set()).update(body["options"])
    return options


def named_volume_mounts(service: dict[str, Any]) -> dict[str, str]:
    """volume name -> mount path for the short-syntax named volumes of a service."""
    mounts = {}
    for entry in service.get("volumes", []):
        source, _, target = str(entry).partition(":")
        if not source.startswith((".", "/", "~")):
            mounts[source] = target.split(":")[0]
    return mounts


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    return compose["services"]


@pytest.fixture(scope="module")
def common(compose: dict[str, Any]) -> dict[str, Any]:
    return compose["x-airflow-common"]


@pytest.fixture(scope="module")
def common_env(common: dict[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in common["environment"].items()}


# --- topology ------------------------------------------------------------------------------------------
def test_every_required_service_exists(services: dict[str, Any]) -> None:
    missing = REQUIRED_SERVICES - set(services)
    assert not missing, f"docker-compose.yaml lacks services {sorted(missing)}"


def test_airflow_services_run_the_official_components(services: dict[str, Any]) -> None:
    commands = {name: services[name].get("command") for name in LONG_RUNNING_AIRFLOW_SERVICES}
    assert commands == {
        "airflow-apiserver": "api-server",
        "airflow-scheduler": "scheduler",
        "airflow-dag-processor": "dag-processor",
        "airflow-triggerer": "triggerer",
        "airflow-worker": "celery worker",
        "flower": "celery flower",
    }


def test_every_airflow_service_merges_the_one_common_anchor() -> None:
    # yaml.compose keeps anchors as shared node objects: an alias IS the anchored node.
    root = yaml.compose(COMPOSE_FILE.read_text(encoding="utf-8"))
    top = {key.value: value for key, value in root.value}
    common_node = top["x-airflow-common"]
    common_env_node = {k.value: v for k, v in common_node.value}["environment"]
    service_nodes = {key.value: value for key, value in top["services"].value}
    for name in AIRFLOW_SERVICES:
        entries = {key.value: value for key, value in service_nodes[name].value}
        assert entries.get("<<") is common_node, f"{name} must start with '<<: *airflow-common'"
        assert not {"image", "build", "volumes"} & set(entries), f"{name} overrides image/build/volumes"
        if "environment" in entries:
            env_entries = {k.value: v for k, v in entries["environment"].value}
            assert env_entries.get("<<") is common_env_node, (
                f"{name} environment must merge *airflow-common-env"
            )


def test_airflow_services_share_image_build_environment_and_volumes(
    services: dict[str, Any], common: dict[str, Any], common_env: dict[str, str]
) -> None:
    assert common["build"] == {"context": ".", "dockerfile": "Dockerfile"}
    for name in AIRFLOW_SERVICES:
        service = services[name]
        assert service["image"] == common["image"], name
        assert service["build"] == common["build"], name
        assert service["volumes"] == common["volumes"], name
        env = {k: str(v) for k, v in service["environment"].items()}
        changed = {k for k in common_env if env.get(k) != common_env[k]}
        assert not changed, f"{name} changes common settings {sorted(changed)}"
        extra = set(env) - set(common_env)
        assert extra <= EXTRA_ENV_ALLOWED.get(name, set()), f"{name} adds {sorted(extra)}"


def test_images_are_pinned(services: dict[str, Any], common: dict[str, Any]) -> None:
    assert services["postgres"]["image"] == "postgres:16"
    assert services["redis"]["image"].startswith("redis:7")
    default_image = interpolate(common["image"], {})
    for image in (services["postgres"]["image"], services["redis"]["image"], default_image):
        name, _, tag = image.rpartition(":")
        assert name and tag and tag != "latest", f"image {image!r} must carry an explicit tag"


# --- secrets and configuration --------------------------------------------------------------------------
def test_shared_secrets_come_only_from_the_config_file_on_the_shared_volume(
    services: dict[str, Any], common: dict[str, Any]
) -> None:
    config_file = common["environment"]["AIRFLOW_CONFIG"]
    config_dir = str(Path(config_file).parent)
    for name in AIRFLOW_SERVICES:
        env = services[name]["environment"]
        overrides = [
            s + sfx for s in SHARED_SECRET_SETTINGS for sfx in ("", "_CMD", "_SECRET") if s + sfx in env
        ]
        assert not overrides, f"{name} sets {overrides}: every service must read the one shared config file"
        assert env["AIRFLOW_CONFIG"] == config_file
        assert named_volume_mounts(services[name]).get("airflow-config") == config_dir, name
    passwords_file = common["environment"]["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"]
    assert str(Path(passwords_file).parent) == config_dir, "passwords file must be on the config volume"


def test_airflow_init_writes_the_secrets_before_migrating(services: dict[str, Any]) -> None:
    init = services["airflow-init"]
    script = init["command"][-1]
    steps = [line.strip() for line in script.splitlines() if line.strip()]
    ensure = next(i for i, s in enumerate(steps) if re.search(r"deploy/shared_secrets\.py ensure$", s))
    migrate = steps.index("airflow db migrate")
    assert ensure < migrate
    assert init["command"][:2] == ["bash", "-euo"], "a failing step must fail the init"
    # The image's /entrypoint would run `airflow db check` first, which writes a default config file.
    assert init["entrypoint"] == ["/usr/bin/dumb-init", "--"]
    assert init.get("restart") == "no"
    script_in_image = steps[ensure].split()[1]
    dockerfile = DOCKERFILE.read_text(encoding="utf-8")
    copy = re.search(r"^COPY\b.*\bdeploy/shared_secrets\.py\b.*\s(\S+)$", dockerfile, re.MULTILINE)
    assert copy, "the Dockerfile must copy deploy/shared_secrets.py into the image"
    assert script_in_image == copy.group(1).rstrip("/") + "/shared_secrets.py"


def test_no_secret_literal_is_committed(services: dict[str, Any]) -> None:
    fernet_shaped = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}=(?![A-Za-z0-9_=-])")
    assert fernet_shaped.search(base64.urlsafe_b64encode(os.urandom(32)).decode())  # the detector works
    assignment = re.compile(
        r"(FERNET_KEY|JWT_SECRET|SECRET_KEY|fernet_key|jwt_secret|secret_key)\s*[:=]\s*['\"]?[A-Za-z0-9_+/=-]{8,}"
    )
    files = [COMPOSE_FILE, DOCKERFILE, ROOT / ".dockerignore", *sorted((ROOT / "deploy").glob("*"))]
    for path in (p for p in files if p.is_file() and p.suffix not in {".pyc"}):
        text = path.read_text(encoding="utf-8")
        assert not fernet_shaped.search(text), f"{path.name} contains a Fernet-key-shaped literal"
        assert not assignment.search(text), f"{path.name} assigns a shared secret a literal value"
    for name, service in services.items():
        for key, value in (service.get("environment") or {}).items():
            if re.search(r"(PASSWORD|SECRET|_KEY)$", key) and str(value):
                assert str(value).startswith("${"), f"{name}: {key} must come from .env, not a literal"


def test_every_interpolated_variable_is_documented_in_env_example() -> None:
    lines = COMPOSE_FILE.read_text(encoding="utf-8").splitlines()
    text = "\n".join(line for line in lines if not line.lstrip().startswith("#"))  # YAML comments
    used = set()
    for match in _INTERPOLATION.finditer(text):
        assert not match["bare"], f"bare '$' at offset {match.start()}: write '$$' (e.g. $${{HOSTNAME}})"
        if match["name"]:
            used.add(match["name"])
    documented = set(read_env_file(ENV_EXAMPLE))
    assert used == documented, (
        f"undocumented: {sorted(used - documented)}, unused: {sorted(documented - used)}"
    )


def test_compose_defaults_resolve_without_an_env_file(
    compose: dict[str, Any], common_env: dict[str, str]
) -> None:
    # `docker compose up -d` on a fresh checkout must work: no ${VAR:?...} and usable defaults.
    assert ":?" not in COMPOSE_FILE.read_text(encoding="utf-8")
    resolved = {k: interpolate(v, {}) for k, v in common_env.items()}
    assert resolved["AIRFLOW_CONN_WECOM_DEFAULT"] == ""
    assert urlsplit(resolved["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]).password


def test_executor_is_celery_with_redis_broker_and_postgres_backends(
    services: dict[str, Any], common_env: dict[str, str]
) -> None:
    assert common_env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    broker = urlsplit(common_env["AIRFLOW__CELERY__BROKER_URL"])
    assert (broker.scheme, broker.hostname, broker.port, broker.path) == ("redis", "redis", 6379, "/0")
    postgres_env = services["postgres"]["environment"]
    for key, scheme in (
        ("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "postgresql+psycopg2"),
        ("AIRFLOW__CELERY__RESULT_BACKEND", "db+postgresql"),
    ):
        url = urlsplit(common_env[key])
        assert url.scheme == scheme, key
        assert url.hostname == "postgres" and url.hostname in services, key
        assert url.username == postgres_env["POSTGRES_USER"], key
        assert url.password == postgres_env["POSTGRES_PASSWORD"], (
            f"{key} must use the postgres service's password"
        )
        assert url.path == "/" + postgres_env["POSTGRES_DB"], key


def test_token_cache_uses_its_own_redis_database(common_env: dict[str, str]) -> None:
    cache = urlsplit(common_env["OFFBOARDING_TOKEN_CACHE_URL"])
    broker = urlsplit(common_env["AIRFLOW__CELERY__BROKER_URL"])
    assert (cache.scheme, cache.hostname, cache.port) == ("redis", "redis", 6379)
    assert cache.path == "/2" and cache.path != broker.path


def test_execution_api_url_points_at_the_api_server_service(
    services: dict[str, Any], common_env: dict[str, str]
) -> None:
    url = urlsplit(common_env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"])
    assert services[url.hostname]["command"] == "api-server"
    container_ports = {int(p.rsplit(":", 1)[1]) for p in services[url.hostname]["ports"]}
    assert url.port in container_ports
    assert url.path == "/execution/"
    public = urlsplit(interpolate(common_env["AIRFLOW__API__BASE_URL"], {}))
    assert public.hostname != url.hostname, "the public URL is for browsers, the execution URL for workers"


def test_every_airflow_env_setting_is_a_real_airflow_option(common_env: dict[str, str]) -> None:
    reference = airflow_config_reference()
    for key in common_env:
        if not key.startswith("AIRFLOW__"):
            continue
        section, _, option = key.removeprefix("AIRFLOW__").lower().partition("__")
        assert option in reference.get(section, set()), f"{key}: Airflow has no [{section}] {option}"


def test_long_waits_do_not_hit_the_run_limit_and_examples_are_off(common_env: dict[str, str]) -> None:
    config = airflow_config_defaults()
    airflow_default = int(config["core"]["options"]["max_active_runs_per_dag"]["default"])
    assert int(common_env["AIRFLOW__CORE__MAX_ACTIVE_RUNS_PER_DAG"]) >= 20 * airflow_default
    assert common_env["AIRFLOW__CORE__LOAD_EXAMPLES"].lower() == "false"
    assert common_env["AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK"].lower() == "true"
    assert common_env["_PIP_ADDITIONAL_REQUIREMENTS"] == "", "nothing may be pip-installed at container start"


def test_scheduler_loops_are_short_as_in_the_test_topology(common_env: dict[str, str]) -> None:
    # Short scheduler loops (the capacity bench's loop goal), as the distributed test topology runs.
    from offboarding_dev.testing.topology import topology_env

    config = airflow_config_defaults()
    topology = topology_env(
        base={},
        sql_alchemy_conn="",
        result_backend="",
        broker_url="",
        token_cache_url="",
        data_dir=Path("/data"),
        workers=1,
        worker_concurrency=1,
    )
    per_loop = "AIRFLOW__SCHEDULER__MAX_DAGRUNS_PER_LOOP_TO_SCHEDULE"
    scheduler = config["scheduler"]["options"]
    assert int(common_env[per_loop]) < int(scheduler["max_dagruns_per_loop_to_schedule"]["default"])
    assert topology[per_loop] == common_env[per_loop]


def test_compose_sets_what_the_test_topology_sets_for_every_deployment(common_env: dict[str, str]) -> None:
    # No greenback portal per trigger (~7 KB per wait, waiting_cost; the product's triggers never call a
    # sync SDK method on the loop), and every case's rendered fields kept (deadlines and due times).
    from offboarding_dev.testing.airflow import DEPLOYMENT_ENV

    assert DEPLOYMENT_ENV == {
        "AIRFLOW_DISABLE_GREENBACK_PORTAL": "true",
        "AIRFLOW__CORE__NUM_DAG_RUNS_TO_RETAIN_RENDERED_FIELDS": "0",
    }
    for name, value in DEPLOYMENT_ENV.items():
        assert common_env.get(name) == value, f"docker-compose.yaml must set {name}={value}"


def test_simple_auth_manager_users_cover_the_product_roles(common_env: dict[str, str]) -> None:
    auth_manager = common_env["AIRFLOW__CORE__AUTH_MANAGER"]
    module_name, _, class_name = auth_manager.rpartition(".")
    assert class_name == "SimpleAuthManager"
    assert importlib.util.find_spec(module_name) is not None, f"{module_name} is not importable"
    shared_secrets = load_module(ROOT / "deploy" / "shared_secrets.py")
    users = shared_secrets.parse_users(
        interpolate(common_env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"], {})
    )
    roles = {user.username: user.role for user in users}
    assert roles.get("admin") == "admin"
    for person in ("hr", "legal_rep", "approver"):
        assert roles.get(person) in {"user", "op"}, f"{person} must be able to trigger runs / answer steps"


# --- health and start order -----------------------------------------------------------------------------
EXPECTED_HEALTHCHECKS = {
    "postgres": "pg_isready",
    "redis": "redis-cli ping",
    "airflow-apiserver": "http://localhost:8080/api/v2/version",
    "airflow-scheduler": "http://localhost:8974/health",
    "airflow-dag-processor": "airflow jobs check --job-type DagProcessorJob",
    "airflow-triggerer": "airflow jobs check --job-type TriggererJob",
    "airflow-worker": "celery --app airflow.providers.celery.executors.celery_executor.app inspect ping",
    "flower": "http://localhost:5555/",
    "wecom-sandbox": "http://localhost:8900/sandbox/identity",
}


@pytest.mark.parametrize("name", sorted(EXPECTED_HEALTHCHECKS))
def test_every_long_running_service_has_its_healthcheck(services: dict[str, Any], name: str) -> None:
    check = services[name].get("healthcheck") or {}
    test = check.get("test")
    assert isinstance(test, list) and test[0] in {"CMD", "CMD-SHELL"}, f"{name}: no healthcheck"
    assert EXPECTED_HEALTHCHECKS[name] in " ".join(test[1:]), f"{name}: unexpected healthcheck {test}"
    assert not check.get("disable"), name


def test_no_long_running_service_lacks_a_healthcheck(services: dict[str, Any]) -> None:
    assert set(services) - set(ONE_SHOT_SERVICES) == set(EXPECTED_HEALTHCHECKS)


def test_hostname_checks_are_escaped_for_the_container_shell(services: dict[str, Any]) -> None:
    # "$${HOSTNAME}" reaches the container as "${HOSTNAME}"; a single "$" would be blanked by Compose.
    for name in ("airflow-dag-processor", "airflow-triggerer", "airflow-worker"):
        assert "$${HOSTNAME}" in " ".join(services[name]["healthcheck"]["test"]), name


def test_start_order_waits_for_healthy_dependencies(services: dict[str, Any]) -> None:
    for name in AIRFLOW_SERVICES:
        deps = services[name]["depends_on"]
        assert deps["postgres"] == {"condition": "service_healthy"}, name
        assert deps["redis"] == {"condition": "service_healthy"}, name
        if name not in ONE_SHOT_SERVICES:
            assert deps["airflow-init"] == {"condition": "service_completed_successfully"}, name
    assert "airflow-init" not in services["airflow-init"]["depends_on"]
    # Workers call the Execution API of the api-server from their first task on.
    assert services["airflow-worker"]["depends_on"]["airflow-apiserver"] == {"condition": "service_healthy"}
    for name in ("postgres", "redis", "wecom-sandbox"):
        assert "depends_on" not in services[name], name


def test_dependencies_exist_and_never_point_into_an_inactive_profile(services: dict[str, Any]) -> None:
    allowed = {"service_healthy", "service_completed_successfully", "service_started"}
    for name, service in services.items():
        for target, spec in (service.get("depends_on") or {}).items():
            assert target in services, f"{name} depends on unknown {target}"
            assert spec["condition"] in allowed, f"{name} -> {target}"
            target_profiles = set(services[target].get("profiles", []))
            assert not target_profiles or target_profiles <= set(service.get("profiles", [])), (
                f"{name} depends on {target}, which only exists under profiles {sorted(target_profiles)}"
            )


# --- volumes and ports ------------------------------------------------------------------------------------
def test_backup_volume_is_mounted_at_the_same_path_everywhere(
    compose: dict[str, Any], services: dict[str, Any], common_env: dict[str, str]
) -> None:
    backup_root = common_env["OFFBOARDING_DATA_DIR"]
    assert backup_root.startswith("/")
    for name in AIRFLOW_SERVICES:
        assert services[name]["environment"]["OFFBOARDING_DATA_DIR"] == backup_root, name
        assert named_volume_mounts(services[name]).get("offboarding-backups") == backup_root, name
    assert "offboarding-backups" in compose["volumes"]
    assert not (compose["volumes"]["offboarding-backups"] or {}).get("external"), (
        "a named volume of this project"
    )


def test_the_declared_storage_roots_parse_and_local_ones_are_on_the_backup_volume(
    common_env: dict[str, str],
) -> None:
    from offboarding.backup.roots import BackupRoot, parse_backup_roots

    declared = interpolate(common_env["OFFBOARDING_BACKUP_ROOTS"], {})
    roots = parse_backup_roots(declared)
    assert roots, "compose declares at least one named storage root"
    assert roots == parse_backup_roots(read_env_file(ENV_EXAMPLE)["OFFBOARDING_BACKUP_ROOTS"])
    volume = common_env["OFFBOARDING_DATA_DIR"]
    for name, url in roots.items():
        if BackupRoot(name, url).is_local:
            assert url.startswith(volume + "/") and url != volume + "/cases", (name, url)
    assert interpolate(common_env["OFFBOARDING_REQUIRE_ENCRYPTION"], {}) in ("0", "1")


def test_every_volume_mounted_by_airflow_exists_in_the_image_owned_by_airflow(common: dict[str, Any]) -> None:
    # A fresh named volume copies owner and mode of the image directory it is mounted on.
    as_root = DOCKERFILE.read_text(encoding="utf-8").split("USER airflow")[0]
    assert "--owner=airflow" in as_root
    created = re.findall(r"/opt/airflow/[\w-]+", as_root)
    for volume, path in named_volume_mounts(common).items():
        assert path in created, f"volume {volume}: the Dockerfile must create {path} (owned by airflow)"


def test_every_published_port_binds_to_loopback(services: dict[str, Any]) -> None:
    published = 0
    for name, service in services.items():
        for port in service.get("ports", []):
            published += 1
            if isinstance(port, dict):
                assert port.get("host_ip") == "127.0.0.1", f"{name}: {port}"
            else:
                assert str(port).startswith("127.0.0.1:"), f"{name}: {port} would listen on every interface"
    assert "127.0.0.1:8080:8080" in services["airflow-apiserver"]["ports"]
    assert published >= 2
    for name in ("postgres", "redis"):
        assert "ports" not in services[name], f"{name} must not be published on the host"


# --- rehearsal ------------------------------------------------------------------------------------------
def test_sandbox_is_an_optional_rehearsal_service_from_its_own_dev_image(
    services: dict[str, Any], common: dict[str, Any]
) -> None:
    sandbox = services["wecom-sandbox"]
    assert sandbox["profiles"] == ["rehearsal"]
    command = sandbox["command"]
    assert command[:3] == ["python", "-m", "offboarding_dev.sandbox"]
    args = dict(zip(command[3::2], command[4::2], strict=True))
    assert args["--host"] == "0.0.0.0" and args["--port"] == "8900"
    # Never the production image: that one holds no sandbox (tests/deploy/test_dockerfile_static.py).
    assert sandbox["image"] != common["image"] and sandbox["build"] != common["build"]
    assert sandbox["build"] == {"context": "devtools", "dockerfile": "Dockerfile.sandbox"}
    assert (ROOT / "devtools" / "Dockerfile.sandbox").is_file()
    assert "environment" not in sandbox and "volumes" not in sandbox, "the sandbox gets no Airflow secrets"
    for name in AIRFLOW_SERVICES:
        assert "wecom-sandbox" not in services[name]["depends_on"], name


def test_rehearsal_env_points_wecom_default_at_the_sandbox(services: dict[str, Any]) -> None:
    from airflow.sdk import Connection

    from offboarding.provider_info import get_provider_info

    rehearsal = read_env_file(REHEARSAL_ENV)
    assert "rehearsal" in rehearsal["COMPOSE_PROFILES"].split(",")
    command = services["wecom-sandbox"]["command"]
    args = dict(zip(command[3::2], command[4::2], strict=True))
    conn = Connection.from_json(rehearsal["AIRFLOW_CONN_WECOM_DEFAULT"], conn_id="wecom_default")
    conn_types = {c["connection-type"] for c in get_provider_info()["connection-types"]}
    assert conn.conn_type == "wecom" and conn.conn_type in conn_types
    host = urlsplit(conn.host)
    assert (host.scheme, host.hostname, host.port) == ("http", "wecom-sandbox", int(args["--port"]))
    assert conn.login == args["--corpid"]
    assert conn.password == args["--secret"]
    assert conn.extra_dejson["contact_secret"] == args["--secret"]
    assert conn.extra_dejson["rehearsal_sandbox"] is True
    # The common environment passes the rehearsal value through and stays empty without it.
    setting = services["airflow-worker"]["environment"]["AIRFLOW_CONN_WECOM_DEFAULT"]
    assert json.loads(interpolate(setting, rehearsal))["host"] == conn.host


def test_empty_connection_variable_falls_back_to_the_stored_connection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from airflow.secrets.environment_variables import EnvironmentVariablesBackend

    monkeypatch.setenv("AIRFLOW_CONN_WECOM_DEFAULT", "")
    assert EnvironmentVariablesBackend().get_connection("wecom_default") is None
    monkeypatch.setenv(
        "AIRFLOW_CONN_WECOM_DEFAULT", read_env_file(REHEARSAL_ENV)["AIRFLOW_CONN_WECOM_DEFAULT"]
    )
    found = EnvironmentVariablesBackend().get_connection("wecom_default")
    assert found is not None and found.host == "http://wecom-sandbox:8900"


def test_every_offboarding_setting_the_compose_file_sets_is_read_by_the_product(
    common_env: dict[str, str],
) -> None:
    # A misspelt or stale variable is silently ignored: backups would land off the shared volume.
    code = "\n".join(p.read_text("utf-8") for p in (ROOT / "plugins" / "offboarding").rglob("*.py"))
    unread = [name for name in common_env if name.startswith("OFFBOARDING_") and f'"{name}"' not in code]
    assert unread == []
