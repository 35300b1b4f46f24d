"""Reading config.yaml: ``${VAR}`` from the environment, validation against the models of ``newsmon.config``
with every problem listed by its path, and the environment's overrides (``NEWSMON_DATABASE_URL`` ...).

Precedence, lowest first: the models' defaults, config.yaml, ``NEWSMON_*`` environment variables, command-line
flags (applied by the CLI).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml
from pydantic import BaseModel, ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from newsmon.config import (
    CONFIG_PATH_ENV,
    DATABASE_URL_ENV,
    DEFAULT_CONFIG_PATH,
    REDIS_URL_ENV,
    Config,
    DatabaseConfig,
    RedisConfig,
    cross_check,
)
from newsmon.errors import ConfigError
from newsmon.logging import hide_in_logs
from newsmon.secrets import url_secrets

_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")

# A check of the raw config by a layer above: its problems, each prefixed by its path (``rules[1].query: ...``).
Check = Callable[[Mapping[str, Any]], list[str]]


def expand_environment(data: Any, environ: Mapping[str, str], path: str = "") -> tuple[Any, list[str]]:
    """Replace ``${VAR}`` and ``${VAR:-default}`` in every string of ``data``; returns (data, problems)."""
    problems: list[str] = []
    if isinstance(data, dict):
        out = {}
        for key, value in data.items():
            out[key], sub = expand_environment(value, environ, f"{path}.{key}" if path else str(key))
            problems += sub
        return out, problems
    if isinstance(data, list):
        items = []
        for index, value in enumerate(data):
            item, sub = expand_environment(value, environ, f"{path}[{index}]")
            items.append(item)
            problems += sub
        return items, problems
    if isinstance(data, str):

        def replace(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            if name in environ:
                return environ[name]
            if default is not None:
                return default
            problems.append(f"{path}: environment variable {name} is not set (referenced as ${{{name}}})")
            return match.group(0)

        return _ENV_REFERENCE.sub(replace, data), problems
    return data, problems


def _location(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def _describe(error: Mapping[str, Any]) -> list[str]:
    loc = tuple(part for part in error["loc"] if not (isinstance(part, str) and part.startswith("function-")))
    path = _location(loc)
    kind = error["type"]
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        hint = f" (allowed: {', '.join(allowed)})" if allowed else ""
        return [f"{path}: unknown key{hint}"]
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind == "missing":
        message = "required"
    lines = message.split("\n")
    if kind == "value_error" and not path:
        # Whole-config checks already carry their own paths.
        return lines
    return [f"{path}: {line}" if path else line for line in lines]


def _allowed_keys(loc: tuple[int | str, ...]) -> list[str]:
    model: type[BaseModel] = Config
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(str(part))
        if field is None:
            return []
        annotation = field.annotation
        inner = getattr(annotation, "__args__", (annotation,))
        candidates = [t for t in inner if isinstance(t, type) and issubclass(t, BaseModel)]
        if not candidates:
            return []
        model = candidates[0]
    return list(model.model_fields)


def validate_config(
    data: Any, environ: Mapping[str, str] | None = None, base_dir: Path | None = None, checks: Sequence[Check] = ()
) -> Config:
    """Validate already-parsed YAML data; raises ConfigError listing every problem by its path.

    ``checks`` look at the (environment-expanded) data for what only the layers above know: whether a rule's
    query parses, whether apprise understands a channel URL. The shell passes them; each returns its problems.
    """
    environ = os.environ if environ is None else environ
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(["the top level must be a mapping (database, crawl, sources, channels, rules)"])
    data, problems = expand_environment(data, environ)
    # Before anything logs a URL of this config (apprise does, when a channel URL is checked).
    hide_in_logs(_secrets_in(data, environ))
    for check in checks:
        problems.extend(check(data))
    config: Config | None = None
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            problems.extend(_describe(error))
        problems.extend(cross_check(data))
    if problems or config is None:
        raise ConfigError(list(dict.fromkeys(problems)))
    return _apply_environment(config, environ, base_dir)


def _secrets_in(data: Mapping[str, Any], environ: Mapping[str, str]) -> list[str]:
    """Every value of the (raw) config that may be secret: channel URLs' passwords and tokens, the database's
    and Redis's passwords, the web token."""
    def section(name: str) -> Mapping[str, Any]:
        value = data.get(name)
        return value if isinstance(value, Mapping) else {}

    channels = section("channels")
    found = [secret for url in channels.values() if isinstance(url, str) for secret in url_secrets(url)]
    for url in (section("database").get("url"), environ.get(DATABASE_URL_ENV)):
        if isinstance(url, str):
            try:
                found.append(make_url(url).password or "")
            except ArgumentError:
                pass
    for url in (section("redis").get("url"), environ.get(REDIS_URL_ENV)):
        if isinstance(url, str):
            try:
                password = urlsplit(url).password or ""
            except ValueError:
                continue
            found += [password, unquote(password)]
    token = section("web").get("token")
    if isinstance(token, str):
        found.append(token)
    return found


def _apply_environment(config: Config, environ: Mapping[str, str], base_dir: Path | None) -> Config:
    url = environ.get(DATABASE_URL_ENV) or _relative_to(config.database.url, base_dir)
    if url != config.database.url:
        try:
            database = DatabaseConfig(url=url)
        except ValidationError as exc:
            raise ConfigError([f"{DATABASE_URL_ENV}: {exc.errors()[0]['msg'].removeprefix('Value error, ')}"]) from exc
        config = config.model_copy(update={"database": database})
    if redis_url := environ.get(REDIS_URL_ENV):
        try:
            redis = RedisConfig(**{**config.redis.model_dump(), "url": redis_url})
        except ValidationError as exc:
            raise ConfigError([f"{REDIS_URL_ENV}: {exc.errors()[0]['msg'].removeprefix('Value error, ')}"]) from exc
        config = config.model_copy(update={"redis": redis})
    return config


def _relative_to(url: str, base_dir: Path | None) -> str:
    """Anchor a relative SQLite path at the config file's folder, so the archive does not depend on the cwd."""
    prefix = "sqlite:///"
    if base_dir is None or not url.startswith(prefix):
        return url
    path = url[len(prefix) :]
    if not path or path.startswith("/") or path == ":memory:" or path.startswith("file:"):
        return url
    return prefix + str((base_dir / path).resolve())


def find_config_path(path: str | os.PathLike[str] | None, environ: Mapping[str, str] | None = None) -> Path:
    environ = os.environ if environ is None else environ
    return Path(path or environ.get(CONFIG_PATH_ENV) or DEFAULT_CONFIG_PATH)


def load_config(
    path: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None, checks: Sequence[Check] = ()
) -> Config:
    """Read and validate config.yaml (``--config``, else ``$NEWSMON_CONFIG``, else ./config.yaml).

    Raises:
        ConfigError: the file is missing, is not YAML, or fails validation (every problem listed).
    """
    config_path = find_config_path(path, environ)
    try:
        text = config_path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError([f"{config_path} not found; pass --config PATH or set {CONFIG_PATH_ENV}"]) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"cannot read {config_path}: {exc}"]) from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError([f"not valid YAML{where}: {problem}"], path=str(config_path)) from exc
    try:
        return validate_config(data, environ, base_dir=config_path.resolve().parent, checks=checks)
    except ConfigError as exc:
        raise ConfigError(exc.problems, path=str(config_path)) from None
