"""The deployment files (Dockerfile, docker-compose.yml, deploy/) checked without a Docker engine.

What can be proved here is proved for real: the files parse, every path they copy exists, every command they run
is a command the CLI accepts (resolved through the click group, so an unknown command or option fails), the
health check's Python exits 0 on 200 and 1 on 503 against a loopback server, and the variables compose needs are
in deploy/env.example. `docker compose config` and `systemd-analyze verify` run when the machine has them.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import shlex
import shutil
import socket
import subprocess
import sys
import threading
import tomllib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import import_module
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from sqlalchemy.engine import make_url

from newsmon.cli import cli
from newsmon.config import Config
from newsmon.config_load import load_config

REPO = Path(__file__).resolve().parents[1]
HEALTH_URL = re.compile(r"http://127\.0\.0\.1:(\d+)/healthz")
# ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}, ${VAR:+alt}; $${ is a literal "${".
COMPOSE_VARIABLE = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])[^}]*)?\}")


# --- Dockerfile ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Instruction:
    keyword: str  # upper case: FROM, COPY, CMD ...
    args: str


@cache
def dockerfile() -> tuple[Instruction, ...]:
    """The Dockerfile's instructions, continuation lines joined and comments dropped (as docker reads them)."""
    instructions: list[Instruction] = []
    pending = ""
    for line in (REPO / "Dockerfile").read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):  # docker drops these inside a continuation too
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        keyword, _, args = (pending + stripped).partition(" ")
        instructions.append(Instruction(keyword.upper(), args.strip()))
        pending = ""
    assert not pending, "the Dockerfile ends inside a continuation line"
    return tuple(instructions)


def instructions(keyword: str) -> list[str]:
    return [instruction.args for instruction in dockerfile() if instruction.keyword == keyword]


def last(keyword: str) -> str:
    """The instruction that counts when it is repeated (CMD, ENTRYPOINT, HEALTHCHECK, USER)."""
    found = instructions(keyword)
    assert found, f"the Dockerfile has no {keyword}"
    return found[-1]


def exec_form(args: str) -> list[str]:
    """A JSON-array argument; the shell form would run under /bin/sh, which gets no SIGTERM forwarding."""
    assert args.startswith("["), f"not the JSON (exec) form: {args}"
    value = json.loads(args)
    assert isinstance(value, list) and all(isinstance(item, str) for item in value), args
    return value


def healthcheck_command() -> list[str]:
    match = re.fullmatch(r"((?:--\S+\s+)*)CMD\s+(.+)", last("HEALTHCHECK"), re.DOTALL)
    assert match, f"HEALTHCHECK is not `[--option ...] CMD [...]`: {last('HEALTHCHECK')}"
    return exec_form(match[2])


def dockerfile_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for args in instructions("ENV"):
        for pair in shlex.split(args):
            key, sep, value = pair.partition("=")
            assert sep, f"use ENV KEY=value: {args}"
            env[key] = value
    return env


def copies() -> list[tuple[list[str], str]]:
    """(sources, destination) of every COPY, flags such as --chown dropped."""
    result = []
    for args in instructions("COPY"):
        parts = exec_form(args) if args.startswith("[") else shlex.split(args)
        parts = [part for part in parts if not part.startswith("--")]
        assert len(parts) >= 2, f"COPY needs a source and a destination: {args}"
        result.append((parts[:-1], parts[-1]))
    return result


def volumes() -> list[str]:
    return [path for args in instructions("VOLUME")
            for path in (exec_form(args) if args.startswith("[") else args.split())]


# --- pyproject, compose, env.example, the systemd unit --------------------------------------------------


@cache
def pyproject() -> dict[str, Any]:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


def setuptools_packages() -> list[str]:
    """The packages the wheel holds: [tool.setuptools] packages, listed or found by packages.find."""
    packages = pyproject()["tool"]["setuptools"].get("packages")
    if isinstance(packages, list):
        return packages
    assert isinstance(packages, dict) and "find" in packages, "list packages or use [tool.setuptools.packages.find]"
    from setuptools import find_packages

    find = packages["find"]
    include, exclude = find.get("include", ("*",)), find.get("exclude", ())
    return [name for where in find.get("where", ["."])
            for name in find_packages(str(REPO / where), include=include, exclude=exclude)]


@cache
def compose() -> dict[str, Any]:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))


def service(name: str) -> dict[str, Any]:
    services = compose()["services"]
    assert name in services, f"docker-compose.yml has no service {name!r}"
    return services[name]


def strings(value: Any) -> Iterator[str]:
    """Every string in parsed YAML (keys and values), so comments never count."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings(key)
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def substitute(text: str, env: dict[str, str]) -> str:
    """Compose's interpolation, for the plain ${VAR} this file uses in values."""
    return COMPOSE_VARIABLE.sub(lambda match: env[match[1]], text)


@cache
def env_example() -> tuple[dict[str, str], dict[str, str]]:
    """deploy/env.example as (variables set, examples in comments)."""
    assigned: dict[str, str] = {}
    examples: dict[str, str] = {}
    text = (REPO / "deploy" / "env.example").read_text(encoding="utf-8")
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        match = re.fullmatch(r"(#\s*)?([A-Z_][A-Z0-9_]*)=(.*)", stripped)
        if match:
            (examples if match[1] else assigned)[match[2]] = match[3]
        else:
            assert not stripped or stripped.startswith("#"), f"env.example:{number}: not VAR=value: {line!r}"
    return assigned, examples


@cache
def unit() -> dict[str, dict[str, list[str]]]:
    """deploy/newsmon.service as section -> key -> values (a key such as ExecStartPre may repeat)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for line in (REPO / "deploy" / "newsmon.service").read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", ";")):
            continue
        if stripped.startswith("[") and stripped.endswith("]"):
            current = sections.setdefault(stripped[1:-1], {})
            continue
        key, sep, value = stripped.partition("=")
        assert current is not None and sep, f"not a unit file line: {line!r}"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def unit_value(key: str) -> str:
    values = unit()["Service"].get(key)
    assert values and len(values) == 1, f"[Service] {key}= should be set once, found {values}"
    return values[0]


def unit_command(key: str) -> list[str]:
    """The newsmon arguments of ExecStart/ExecStartPre (the venv's newsmon script, then its arguments)."""
    program, *args = shlex.split(unit_value(key))
    assert Path(program).name in pyproject()["project"]["scripts"], f"{key} does not run newsmon: {program}"
    return args


# --- The CLI --------------------------------------------------------------------------------------------


def resolve_command(args: Sequence[str]) -> click.Command:
    """The command `newsmon ARGS` runs, parsed as click parses it, without running it.

    Raises:
        click.UsageError: an unknown command or option, a bad value, or a group given no command.
    """
    ctx = cli.make_context("newsmon", list(args), resilient_parsing=False)
    command: click.Command = cli
    while isinstance(command, click.Group):
        # click 8.2+ keeps the subcommand's name apart from ctx.args (the public `protected_args` is deprecated;
        # click 9 folds it into args), so read both the way Group.invoke does.
        rest = [*getattr(ctx, "_protected_args", []), *ctx.args]
        if not rest:
            raise click.UsageError("missing command", ctx)
        name, subcommand, rest = command.resolve_command(ctx, rest)
        assert name is not None and subcommand is not None  # an unknown name raised NoSuchCommand
        ctx = subcommand.make_context(name, rest, parent=ctx)
        command = subcommand
    return command


def assert_is_a_command(args: Sequence[str], where: str) -> None:
    try:
        resolve_command(args)
    except click.UsageError as exc:
        pytest.fail(f"{where}: `newsmon {shlex.join(args)}` is not a newsmon command: {exc.format_message()}")


def http_address(args: Sequence[str]) -> tuple[str, int]:
    """HOST and PORT of `--http HOST:PORT` in a `run` command line."""
    assert "--http" in args, f"no --http in {list(args)}"
    host, _, port = args[args.index("--http") + 1].rpartition(":")
    return host, int(port)


# --- The CLI resolution itself, on commands that exist today --------------------------------------------


@pytest.mark.parametrize(
    ("args", "name"),
    [
        (["db", "upgrade"], "upgrade"),
        (["crawl"], "crawl"),
        (["--config", "x.yaml", "-v", "crawl", "bbc-world"], "crawl"),
    ],
)
def test_resolving_finds_real_commands(args: list[str], name: str) -> None:
    assert resolve_command(args).name == name


@pytest.mark.parametrize(
    "args",
    [["nope"], ["db", "nope"], ["db", "upgrade", "--bogus"], ["crawl", "--http", "0.0.0.0:8080"], ["db"], []],
    ids=["unknown command", "unknown subcommand", "unknown option", "option of another command", "group alone",
         "nothing"],
)
def test_resolving_rejects_what_the_cli_would(args: list[str]) -> None:
    with pytest.raises(click.UsageError):
        resolve_command(args)


# --- Every command the deployment runs is a real command ------------------------------------------------

DEPLOYED_COMMANDS: dict[str, Callable[[], list[str]]] = {
    "Dockerfile CMD": lambda: exec_form(last("CMD")),
    "compose newsmon command": lambda: service("newsmon")["command"],
    "compose migrate command": lambda: service("migrate")["command"],
    "compose worker command": lambda: service("worker")["command"],
    "systemd ExecStartPre": lambda: unit_command("ExecStartPre"),
    "systemd ExecStart": lambda: unit_command("ExecStart"),
}


@pytest.mark.parametrize("where", DEPLOYED_COMMANDS)
def test_deployed_commands_are_real_cli_commands(where: str) -> None:
    # Resolved through the click group, so a renamed command or option fails here, not in production.
    assert_is_a_command(DEPLOYED_COMMANDS[where](), where)


def test_entrypoint_is_the_newsmon_console_script() -> None:
    assert exec_form(last("ENTRYPOINT")) == ["newsmon"]
    target = pyproject()["project"]["scripts"]["newsmon"]
    module, _, attribute = target.partition(":")
    assert callable(getattr(import_module(module), attribute)), target


def test_migrations_run_as_their_own_steps() -> None:
    assert service("migrate")["command"] == ["db", "upgrade"]
    assert unit_command("ExecStartPre") == ["db", "upgrade"]


# --- Dockerfile -----------------------------------------------------------------------------------------


def test_every_copy_source_exists_in_the_repository() -> None:
    for sources, _ in copies():
        for source in sources:
            assert not posixpath.isabs(source) and ".." not in source.split("/"), f"outside the build context: {source}"
            assert (REPO / source).exists(), f"COPY {source}: no such file in the repository"


def test_every_package_and_its_data_is_copied_where_pip_install_finds_it() -> None:
    # pip install . in WORKDIR builds from the copied tree, so each package's folder keeps its repository path.
    copied_dirs = [posixpath.normpath(dest) for sources, dest in copies() for source in sources
                   if (REPO / source).is_dir() and posixpath.normpath(source) == posixpath.normpath(dest)]
    package_data: dict[str, list[str]] = pyproject()["tool"]["setuptools"].get("package-data", {})
    packages = setuptools_packages()
    assert "db.migrations" in packages, "Alembic's migrations must ship in the wheel"
    for package in packages:
        folder = package.replace(".", "/")
        assert (REPO / folder).is_dir(), f"package {package}: no folder {folder}"
        assert any(folder == copied or folder.startswith(copied + "/") for copied in copied_dirs), (
            f"package {package} is not copied into the image"
        )
        for pattern in package_data.get(package, []):
            assert list((REPO / folder).glob(pattern)), f"package data {package}/{pattern} matches no file"


def test_pyproject_and_its_readme_are_copied() -> None:
    copied_files = {source for sources, _ in copies() for source in sources}
    readme = pyproject()["project"]["readme"]
    readme_file = readme if isinstance(readme, str) else readme["file"]
    assert {"pyproject.toml", readme_file} <= copied_files  # setuptools fails without the readme it names


def test_the_image_runs_as_newsmon_with_a_data_volume_it_owns() -> None:
    assert last("USER") == "newsmon"
    assert "/data" in volumes()
    keywords = [instruction.keyword for instruction in dockerfile()]
    creates_data = [i for i, instruction in enumerate(dockerfile())
                    if instruction.keyword == "RUN" and "/data" in instruction.args]
    # Changes to a volume's path after VOLUME are discarded, so /data must be made and chowned before it.
    assert creates_data and max(creates_data) < keywords.index("VOLUME")
    assert last("STOPSIGNAL") == "SIGTERM"


def test_the_port_is_the_same_everywhere_in_the_image() -> None:
    host, port = http_address(exec_form(last("CMD")))
    assert host == "0.0.0.0"  # reachable from outside the container; compose publishes it on loopback only
    assert str(port) in instructions("EXPOSE")
    health = HEALTH_URL.search(" ".join(healthcheck_command()))
    assert health and int(health[1]) == port


# --- The health check, run for real against a loopback server -------------------------------------------


class HealthServer(ThreadingHTTPServer):
    def __init__(self, status: int) -> None:
        super().__init__(("127.0.0.1", 0), HealthHandler)
        self.status = status
        self.paths: list[str] = []


class HealthHandler(BaseHTTPRequestHandler):
    server: HealthServer

    def do_GET(self) -> None:
        self.server.paths.append(self.path)
        body = json.dumps({"healthy": self.server.status == 200}).encode()
        self.send_response(self.server.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output quiet


def run_healthcheck(port: int) -> subprocess.CompletedProcess[str]:
    """The image's HEALTHCHECK command, pointed at PORT, with a proxy in the environment it must ignore."""
    program, *args = healthcheck_command()
    assert program == "python"  # on PATH in python:3.11-slim; here, this interpreter
    args = [HEALTH_URL.sub(f"http://127.0.0.1:{port}/healthz", arg) for arg in args]
    env = {**os.environ, "http_proxy": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9", "no_proxy": ""}
    return subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True, timeout=30, check=False)


@pytest.mark.parametrize(("status", "exit_code"), [(200, 0), (503, 1)])
def test_healthcheck_exits_by_the_status_of_healthz(status: int, exit_code: int) -> None:
    server = HealthServer(status)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        result = run_healthcheck(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert server.paths == ["/healthz"]
    assert result.returncode == exit_code, result.stderr  # docker: 0 healthy, 1 unhealthy (2 is reserved)


def test_healthcheck_fails_when_nothing_listens() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert run_healthcheck(port).returncode == 1


# --- docker-compose.yml ---------------------------------------------------------------------------------


def test_compose_has_the_database_redis_and_newsmon_with_health_checks() -> None:
    for name in ("db", "redis", "newsmon"):
        assert service(name).get("healthcheck", {}).get("test"), f"service {name} has no healthcheck"
    assert service("db")["image"].startswith("newsmon-postgres:")
    assert service("redis")["image"].startswith("redis:")
    assert service("newsmon")["depends_on"]["db"]["condition"] == "service_healthy"


def test_compose_runs_the_image_as_the_dockerfile_does() -> None:
    newsmon = service("newsmon")
    assert newsmon["build"] == "."
    assert newsmon["command"] == exec_form(last("CMD"))
    assert newsmon["healthcheck"]["test"] == ["CMD", *healthcheck_command()]
    assert "/healthz" in " ".join(newsmon["healthcheck"]["test"])
    assert newsmon["restart"] == "unless-stopped"
    assert newsmon["stop_grace_period"] == "60s"


def test_compose_publishes_the_service_port_on_loopback_only() -> None:
    _, port = http_address(service("newsmon")["command"])
    assert service("newsmon")["ports"] == [f"127.0.0.1:{port}:{port}"]  # /metrics is not for the internet


def test_compose_mounts_the_config_where_the_image_looks_for_it() -> None:
    config_path = dockerfile_env()["NEWSMON_CONFIG"]
    assert f"./config.yaml:{config_path}:ro" in service("newsmon")["volumes"]


def test_every_named_volume_is_declared_and_the_data_volume_is_the_images() -> None:
    declared = compose().get("volumes") or {}
    for name, definition in compose()["services"].items():
        for volume in definition.get("volumes", []):
            source = volume.split(":")[0]
            if not source.startswith((".", "/")):
                assert source in declared, f"service {name} mounts volume {source}, not declared under volumes:"
    data = [volume for volume in service("newsmon")["volumes"] if volume.split(":")[1] in volumes()]
    assert data == ["newsmon-data:/data"]


def test_migrate_is_a_tool_running_the_newsmon_image() -> None:
    migrate, newsmon = service("migrate"), service("newsmon")
    assert migrate["profiles"] == ["tools"]  # not started by `docker compose up`
    # `docker compose build` skips inactive profiles, so migrate shares newsmon's tag and is always built.
    assert migrate["image"] == newsmon["image"] and migrate["build"] == newsmon["build"]
    assert migrate["pull_policy"] == newsmon["pull_policy"] == "build"
    for key in ("environment", "volumes", "depends_on", "env_file"):
        assert migrate[key] == newsmon[key], key


def test_every_variable_compose_needs_is_set_in_env_example() -> None:
    assigned, _ = env_example()
    needed = {match[1] for text in strings(compose()) for match in COMPOSE_VARIABLE.finditer(text)
              if match[2] in (None, ":?", "?")}
    assert needed, "docker-compose.yml should need at least POSTGRES_PASSWORD"
    assert needed <= set(assigned), f"missing from deploy/env.example: {sorted(needed - set(assigned))}"


def container_config() -> Config:
    """The shipped config.yaml as the compose service reads it: ${VAR}s from .env, the database URL from compose."""
    assigned, examples = env_example()
    env = {**examples, **assigned}
    compose_env = {key: substitute(value, env) for key, value in service("newsmon")["environment"].items()}
    return load_config(REPO / "config.yaml", environ={**env, **compose_env})


def test_env_example_gives_a_config_and_cli_that_load(monkeypatch: pytest.MonkeyPatch) -> None:
    assigned, _ = env_example()
    url = make_url(container_config().database.url)
    assert url.get_backend_name() == "postgresql" and url.host == "db"
    assert url.password == assigned["POSTGRES_PASSWORD"]  # survives the URL unescaped
    # The CLI reads NEWSMON_* options (NEWSMON_LOG_FORMAT) from the environment; bad values are usage errors.
    for key, value in assigned.items():
        monkeypatch.setenv(key, value)
    assert_is_a_command(["db", "upgrade"], "with deploy/env.example's environment")


def test_docker_compose_accepts_the_file() -> None:
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("no docker client on this machine")
    version = subprocess.run([docker, "compose", "version"], capture_output=True, text=True, check=False)
    if version.returncode != 0:
        reason = (version.stderr or version.stdout).strip().splitlines()[:1]
        pytest.skip(f"the docker client has no compose plugin (`docker compose version`: {' '.join(reason)})")
    result = subprocess.run(
        [docker, "compose", "--project-directory", str(REPO), "--file", str(REPO / "docker-compose.yml"),
         "--profile", "tools", "config", "--quiet"],
        env={**os.environ, "POSTGRES_PASSWORD": "test-only"},  # what .env gives compose
        capture_output=True, text=True, check=False, timeout=60,
    )
    assert result.returncode == 0, result.stderr


# --- The systemd unit -----------------------------------------------------------------------------------


def test_docker_and_systemd_wait_longer_than_the_service_finishes_its_crawls() -> None:
    # After its stop_grace the service still stops what is left and releases its lock: leave it 10 s for that.
    needed = container_config().service.stop_grace.total_seconds() + 10
    assert seconds(service("newsmon")["stop_grace_period"]) >= needed
    assert seconds(unit_value("TimeoutStopSec")) >= needed


def seconds(duration: str) -> int:
    """`60s`, `90` (systemd's plain seconds) or `1m30s` in seconds."""
    parts = re.fullmatch(r"(?:(\d+)m)?(?:(\d+)s?)?", duration)
    assert parts and duration, f"not a duration: {duration!r}"
    return int(parts[1] or 0) * 60 + int(parts[2] or 0)


def test_systemd_unit_runs_the_service_hardened() -> None:
    assert unit_value("User") == "newsmon"
    assert "NEWSMON_CONFIG=/etc/newsmon/config.yaml" in unit()["Service"]["Environment"]
    host, _ = http_address(unit_command("ExecStart"))
    assert host == "127.0.0.1"
    assert unit_value("KillSignal") == "SIGTERM"
    assert unit_value("KillMode") == "mixed"  # SIGTERM to newsmon alone; its crawl children finish under it
    assert unit_value("Restart") == "on-failure"
    assert unit_value("ProtectSystem") == "strict"
    # With a read-only system, the working directory must be among the writable paths.
    assert unit_value("WorkingDirectory") in unit_value("ReadWritePaths").split()
    for key in ("NoNewPrivileges", "PrivateTmp", "ProtectHome"):
        assert unit_value(key) == "true", key
    assert unit()["Install"]["WantedBy"] == ["multi-user.target"]


def systemd_verify(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["systemd-analyze", "verify", "--man=no", str(path)],
                          capture_output=True, text=True, check=False, timeout=60)


def test_systemd_analyze_verifies_the_unit(tmp_path: Path) -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    probe = tmp_path / "probe" / "probe.service"
    probe.parent.mkdir()
    probe.write_text(f"[Service]\nExecStart={sys.executable} -V\n", encoding="utf-8")
    if systemd_verify(probe).returncode != 0:
        pytest.skip(f"systemd-analyze verify does not work here: {systemd_verify(probe).stderr.strip()}")
    # verify checks that ExecStart's program exists: point it at this venv's newsmon instead of /opt/newsmon.
    newsmon = Path(sys.executable).parent / "newsmon"
    if not newsmon.exists():
        pytest.skip(f"no newsmon console script beside {sys.executable}")
    text = (REPO / "deploy" / "newsmon.service").read_text(encoding="utf-8")
    assert "/opt/newsmon/bin/newsmon" in text
    copy = tmp_path / "newsmon.service"
    copy.write_text(text.replace("/opt/newsmon/bin/newsmon", str(newsmon)), encoding="utf-8")
    result = systemd_verify(copy)
    # Unknown keys and bad values are only warnings (exit 0), so every line about our unit counts.
    complaints = [line for line in result.stderr.splitlines() if "newsmon.service" in line]
    assert result.returncode == 0 and not complaints, result.stderr
