"""Static checks of the Dockerfile and .dockerignore: the image is the lock plus this project, nothing else.

No Docker engine runs here, so the Dockerfile is parsed into its instructions and checked against the
files it must agree with: requirements.lock (the Airflow version and every pin), pyproject.toml (Python
version, distribution name, package folder, readme, provider entry point) and .dockerignore.
"""

from __future__ import annotations

import fnmatch
import re
import shlex
import tomllib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
LOCK = ROOT / "requirements.lock"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Instruction:
    """One Dockerfile instruction, continuation lines joined, comments dropped."""

    keyword: str
    arguments: str

    @property
    def tokens(self) -> list[str]:
        return shlex.split(self.arguments)


def parse_dockerfile(text: str) -> list[Instruction]:
    instructions: list[Instruction] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue  # a comment line inside a continued instruction
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = pending + line
        pending = ""
        keyword, _, arguments = full.partition(" ")
        instructions.append(Instruction(keyword.upper(), arguments.strip()))
    assert not pending, "the Dockerfile ends inside a continued line"
    return instructions


INSTRUCTIONS = parse_dockerfile(DOCKERFILE.read_text(encoding="utf-8"))


def locked_version(distribution: str) -> str:
    match = re.search(rf"^{re.escape(distribution)}==(\S+)$", LOCK.read_text(encoding="utf-8"), re.MULTILINE)
    assert match, f"requirements.lock does not pin {distribution}"
    return match.group(1)


def project_python() -> str:
    """The single Python minor version pyproject allows, e.g. '>=3.11,<3.12' -> '3.11'."""
    spec = PYPROJECT["project"]["requires-python"]
    low = re.search(r">=\s*(\d+)\.(\d+)", spec)
    high = re.search(r"<\s*(\d+)\.(\d+)", spec)
    assert low and high, f"requires-python {spec!r} must bound one minor version"
    assert (int(high[1]), int(high[2])) == (int(low[1]), int(low[2]) + 1), spec
    return f"{low[1]}.{low[2]}"


def copies() -> list[tuple[int, list[str], str]]:
    """(index, sources, destination) for every COPY, options like --chown dropped."""
    found = []
    for index, ins in enumerate(INSTRUCTIONS):
        if ins.keyword == "COPY":
            paths = [t for t in ins.tokens if not t.startswith("--")]
            found.append((index, paths[:-1], paths[-1]))
    return found


def copy_destination(source: str) -> tuple[int, str]:
    """Where a repository path lands in the image, and the index of the COPY that puts it there."""
    for index, sources, dest in copies():
        for src in sources:
            if src.rstrip("/") == source.rstrip("/"):
                if dest.endswith("/") and not src.endswith("/"):
                    return index, dest + PurePosixPath(src).name
                return index, dest.rstrip("/")
    raise AssertionError(f"the Dockerfile never copies {source}")


def pip_installs() -> list[tuple[int, list[str]]]:
    """(index, arguments after 'pip install') for every pip install in a RUN."""
    found = []
    for index, ins in enumerate(INSTRUCTIONS):
        if ins.keyword != "RUN":
            continue
        words = ins.tokens
        for start in range(len(words) - 1):
            if words[start : start + 2] == ["pip", "install"]:
                args = []
                for word in words[start + 2 :]:
                    if word in {"&&", "||", ";", "|"}:
                        break
                    args.append(word)
                found.append((index, args))
    return found


def user_at(index: int) -> str:
    users = [ins.arguments for ins in INSTRUCTIONS[:index] if ins.keyword == "USER"]
    return users[-1] if users else "root (base image default unknown)"


# --- base image ------------------------------------------------------------------------------------------
def test_base_image_is_the_official_airflow_image_of_the_locked_version() -> None:
    froms = [ins for ins in INSTRUCTIONS if ins.keyword == "FROM"]
    assert len(froms) == 1, "one stage: the official image extended"
    expected = f"apache/airflow:{locked_version('apache-airflow')}-python{project_python()}"
    assert froms[0].arguments == expected


def test_lock_and_pyproject_agree_on_airflow() -> None:
    pinned = [d for d in PYPROJECT["project"]["dependencies"] if d.startswith("apache-airflow==")]
    assert pinned == [f"apache-airflow=={locked_version('apache-airflow')}"]


# --- installs ------------------------------------------------------------------------------------------
def test_third_party_packages_come_from_the_lock_without_resolution() -> None:
    _, lock_in_image = copy_destination("requirements.lock")
    lock_installs = [
        (i, args)
        for i, args in pip_installs()
        if any(
            args[k] in {"-r", "--requirement"} and args[k + 1] == lock_in_image for k in range(len(args) - 1)
        )
    ]
    assert len(lock_installs) == 1, "requirements.lock must be installed exactly once"
    index, args = lock_installs[0]
    assert "--no-deps" in args
    assert index > copy_destination("requirements.lock")[0]


def test_project_is_installed_from_its_sources_with_no_deps_after_the_lock() -> None:
    _, pyproject_in_image = copy_destination("pyproject.toml")
    project_dir = str(PurePosixPath(pyproject_in_image).parent)
    project_installs = [
        (i, args) for i, args in pip_installs() if project_dir in args or project_dir + "/" in args
    ]
    assert len(project_installs) == 1, f"pip install --no-deps {project_dir} missing"
    index, args = project_installs[0]
    assert "--no-deps" in args and "-e" not in args and "--editable" not in args
    lock_index = next(i for i, a in pip_installs() if "--requirement" in a or "-r" in a)
    assert lock_index < index, "the lock must be installed before the project"
    # Everything setuptools needs to build the distribution is in that directory.
    package_root = PYPROJECT["tool"]["setuptools"]["packages"]["find"]["where"][0]
    copy_index, packages_in_image = copy_destination(package_root + "/")
    assert packages_in_image == f"{project_dir}/{package_root}" and copy_index < index
    readme = PYPROJECT["project"].get("readme")
    if readme:
        copy_index, readme_in_image = copy_destination(readme)
        assert readme_in_image == f"{project_dir}/{readme}" and copy_index < index


def test_nothing_is_installed_that_could_float() -> None:
    installs = pip_installs()
    assert len(installs) == 2, "exactly two installs: the lock and the project"
    for _, args in installs:
        assert "--no-deps" in args, f"pip install {' '.join(args)} would resolve dependencies"
        for flag in ("-U", "--upgrade", "--pre", "--index-url", "--extra-index-url", "-e", "--editable"):
            assert flag not in args, f"pip install {' '.join(args)} uses {flag}"
    assert not any("uv pip" in ins.arguments or "_PIP_ADDITIONAL" in ins.arguments for ins in INSTRUCTIONS)


def test_pip_runs_as_the_airflow_user() -> None:
    # The official image refuses pip as root and installs into airflow's environment.
    for index, args in pip_installs():
        assert user_at(index) == "airflow", f"pip install {' '.join(args)} runs as {user_at(index)}"


def test_the_build_verifies_the_lock_and_the_provider() -> None:
    _, script = copy_destination("deploy/verify_locked_install.py")
    _, lock_in_image = copy_destination("requirements.lock")
    runs = [
        (i, ins.tokens)
        for i, ins in enumerate(INSTRUCTIONS)
        if ins.keyword == "RUN" and script in ins.arguments
    ]
    assert runs, "the build must run deploy/verify_locked_install.py"
    index, tokens = runs[0]
    assert tokens[:3] == ["python", script, lock_in_image]
    distribution = PYPROJECT["project"]["name"]
    assert tokens[tokens.index("--provider") + 1] == distribution
    assert "apache_airflow_provider" in PYPROJECT["project"]["entry-points"], "nothing to verify"
    assert index > max(i for i, _ in pip_installs()), "verify after every install"


# --- runtime layout ---------------------------------------------------------------------------------------
def test_include_dir_is_copied_and_announced() -> None:
    envs = dict(
        ins.arguments.split("=", 1)
        for ins in INSTRUCTIONS
        if ins.keyword == "ENV" and "=" in ins.arguments.split()[0]
    )
    _, include_in_image = copy_destination("include/")
    assert envs["OFFBOARDING_INCLUDE_DIR"] == include_in_image == "/opt/airflow/include"


def test_dags_land_in_the_official_images_dags_folder() -> None:
    assert copy_destination("dags/")[1] == "/opt/airflow/dags"


def test_the_image_ends_as_the_unprivileged_airflow_user() -> None:
    users = [ins.arguments for ins in INSTRUCTIONS if ins.keyword == "USER"]
    assert users and users[-1] == "airflow"
    assert INSTRUCTIONS[-1].keyword in {"USER", "WORKDIR", "ENV"}
    assert user_at(len(INSTRUCTIONS)) == "airflow"


def test_no_entrypoint_override_and_no_secret_in_the_image() -> None:
    # The official entrypoint (dumb-init + /entrypoint) handles signals and arbitrary UIDs.
    assert not [ins for ins in INSTRUCTIONS if ins.keyword in {"ENTRYPOINT", "CMD"}]
    for ins in INSTRUCTIONS:
        if ins.keyword in {"ENV", "ARG"}:
            assert not re.search(r"(FERNET|JWT|SECRET|PASSWORD|TOKEN)", ins.arguments.upper()), ins.arguments


# --- .dockerignore ----------------------------------------------------------------------------------------
def dockerignore_excludes(path: str) -> bool:
    """Docker's rule: patterns match a path or any parent folder; the last matching pattern wins."""
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    parts = PurePosixPath(path).parts
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    excluded = False
    for raw in patterns:
        negate = raw.startswith("!")
        pattern = raw.lstrip("!").rstrip("/")
        if pattern.startswith("**/"):
            tail = pattern[3:]
            hit = any(fnmatch.fnmatchcase(part, tail) for part in parts) or any(
                fnmatch.fnmatchcase(c, pattern) for c in candidates
            )
        else:
            hit = any(
                fnmatch.fnmatchcase(c, pattern) and c.count("/") == pattern.count("/") for c in candidates
            )
        if hit:
            excluded = not negate
    return excluded


@pytest.mark.parametrize("_index,sources,_dest", copies())
def test_every_copied_path_is_in_the_build_context(_index: int, sources: list[str], _dest: str) -> None:
    for source in sources:
        assert not dockerignore_excludes(source.rstrip("/")), f".dockerignore hides {source} from the build"
        assert (ROOT / source).exists(), f"{source} does not exist: the image build would fail"


@pytest.mark.parametrize(
    "path",
    [
        ".env",
        "deploy/rehearsal.env",
        "deploy/.env.example",
        ".venv/bin/python",
        ".git/HEAD",
        ".airflow/airflow.cfg",
        "tests/conftest.py",
        "plugins/offboarding/__pycache__/x.cpython-311.pyc",
        "plugins/wecom_offboarding.egg-info/PKG-INFO",
        "devtools/offboarding_dev/sandbox/app.py",
        "devtools/offboarding_dev/testing/airflow.py",
        "requirements-dev.lock",
    ],
)
def test_secrets_and_local_state_stay_out_of_the_build_context(path: str) -> None:
    assert dockerignore_excludes(path)


def test_sources_inside_allowed_folders_are_sent() -> None:
    for path in (
        "plugins/offboarding/provider_info.py",
        "plugins/.airflowignore",
        "dags/x.py",
        "include/p.yaml",
    ):
        assert not dockerignore_excludes(path), path


# --- production only: runtime dependencies, no dev tools ------------------------------------------------
DEV_ONLY_DISTRIBUTIONS = ("pytest", "ruff", "iniconfig", "wecom-offboarding-dev")


def _locked_names(lock: Path) -> set[str]:
    return {
        line.split("==")[0].strip().lower()
        for line in lock.read_text(encoding="utf-8").splitlines()
        if "==" in line and not line.startswith((" ", "#"))
    }


def test_the_image_lock_holds_the_runtime_dependencies_only() -> None:
    runtime = _locked_names(LOCK)
    dev = _locked_names(ROOT / "requirements-dev.lock")
    assert not {name for name in runtime if name in DEV_ONLY_DISTRIBUTIONS or name.startswith("pytest-")}
    # the dev lock is the runtime lock plus the dev extra, at the same versions
    assert runtime < dev and {"pytest", "ruff"} <= dev
    runtime_pins = {line for line in LOCK.read_text(encoding="utf-8").splitlines() if "==" in line}
    dev_pins = {line for line in (ROOT / "requirements-dev.lock").read_text(encoding="utf-8").splitlines()}
    assert runtime_pins <= dev_pins, "the two locks pin a package at different versions: run make lock"
    assert "--extra" not in LOCK.read_text(encoding="utf-8").split("\n", 3)[1]


def test_the_image_copies_no_dev_tools_and_no_dev_lock() -> None:
    for _, sources, _ in copies():
        for source in sources:
            assert not source.startswith("devtools"), f"the production image copies {source}"
            assert source != "requirements-dev.lock"
    assert "offboarding_dev" not in DOCKERFILE.read_text(encoding="utf-8")


SANDBOX_DOCKERFILE = ROOT / "devtools" / "Dockerfile.sandbox"


def test_the_sandbox_image_holds_the_sandbox_package_only() -> None:
    instructions = parse_dockerfile(SANDBOX_DOCKERFILE.read_text(encoding="utf-8"))
    copied = [ins.tokens[-2] for ins in instructions if ins.keyword == "COPY"]
    assert copied == ["offboarding_dev/__init__.py", "offboarding_dev/sandbox/"]
    for source in copied:
        assert (ROOT / "devtools" / source).exists(), source
    assert not any(ins.keyword == "RUN" and "pip" in ins.tokens for ins in instructions), "stdlib only"
    users = [ins.arguments for ins in instructions if ins.keyword == "USER"]
    assert users and users[-1] != "root"


def test_the_image_installs_the_pdf_reports_chinese_font_at_the_default_path() -> None:
    from offboarding.settings import DEFAULT_PDF_FONT

    text = DOCKERFILE.read_text(encoding="utf-8")
    install = next(i for i in INSTRUCTIONS if i.keyword == "RUN" and "fonts-noto-cjk" in i.arguments)
    assert "apt-get install" in install.arguments and f"test -f {DEFAULT_PDF_FONT}" in install.arguments
    assert text.index("fonts-noto-cjk") < text.index("USER airflow")  # installed as root, before pip
