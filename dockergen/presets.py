"""Built-in defaults: the lowest layer of every resolved service.

Everything dockergen bakes in without being asked lives here as data, so that a reader
can see (and a user can override) each default in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

STANDARD_ENVIRONMENTS: dict[str, dict[str, Any]] = {
    "dev": {"kind": "dev"},
    "test": {"kind": "test"},
    "staging": {"kind": "staging"},
    "prod": {"kind": "prod"},
    # prod on rootless podman: everything prod says (limits, ports, settings) carries over.
    "podman": {"kind": "prod", "engine": "podman", "extends": "prod"},
}

# The build stage each kind of environment runs (a built-in name; `build.stage_names` may rename it).
TARGET_BY_KIND = {"dev": "dev", "test": "test", "staging": "prod", "prod": "prod"}
# The stage that serves: what a test environment runs for a service others wait for, and
# for a service on another's image (it has no test suite of its own).
SERVING_TARGET = "prod"
# What the prod image leaves out of the build context by default (python adds its dev/test
# requirement files): the test suite has its own stage.
PROD_EXCLUDE = {"python": ("tests", "test", "conftest.py"), "node": ("tests", "test", "__tests__"), "generic": ()}
# Build arguments the built-in templates declare before the first FROM (the base image's version).
GLOBAL_ARGS = ("PYTHON_VERSION", "NODE_VERSION")
# OCI annotations read from build args (declared last in prod, so a new commit reruns no
# step), and the `oci` field giving each one's default.
OCI_ARGS = (("source", "OCI_SOURCE"), ("version", "OCI_VERSION"), ("revision", "OCI_REVISION"), ("created", "OCI_CREATED"))
OCI_FIXED = ("url", "documentation", "vendor", "licenses", "authors")
OCI_PREFIX = "org.opencontainers.image."
# The stages of the built-in templates, in order.
TEMPLATE_STAGES = {
    "python": ("base", "builder", "dev", "test", "source", "prod"),
    "node": ("base", "deps", "dev", "test", "builder", "prod"),
}

HEALTHCHECK_TIMING = {"interval": "30s", "timeout": "5s", "start_period": "15s", "retries": 3, "start_interval": "1s"}

# Policy per kind of environment, applied to every service.
BY_KIND: dict[str, dict[str, Any]] = {
    "dev": {},
    "test": {"restart": "no"},
    "staging": {
        "restart": "unless-stopped",
        "logging": {"driver": "json-file", "options": {"max-size": "10m", "max-file": "3"}},
    },
    "prod": {
        "restart": "always",
        "logging": {"driver": "json-file", "options": {"max-size": "10m", "max-file": "5"}},
    },
}

# Extra policy for services whose image dockergen builds (we know they run as non-root
# and need no capabilities; third-party images may). Limits too: a web app or worker with
# two processes fits them; a database or a model server sized by a guess would be killed
# under load, so stock images get none unless the spec sizes them (lint DG001 says so).
BUILT_BY_KIND: dict[str, dict[str, Any]] = {
    "dev": {"source_mount": True, "debug_port": True},
    "test": {},
    "staging": {
        "init": True, "cap_drop": ["ALL"], "security_opt": ["no-new-privileges:true"],
        "resources": {"limits": {"cpus": 1.0, "memory": "512M"}, "reservations": {"cpus": 0.1, "memory": "64M"}},
    },
    "prod": {
        "init": True, "cap_drop": ["ALL"], "security_opt": ["no-new-privileges:true"],
        "resources": {"limits": {"cpus": 1.0, "memory": "512M"}, "reservations": {"cpus": 0.25, "memory": "128M"}},
    },
}  # fmt: skip

# Well-known images: a healthcheck that works with what the image ships, and where it
# keeps its state. Keyed by repository name without registry or tag.
KNOWN_IMAGES: dict[str, dict[str, Any]] = {
    "postgres": {
        "healthcheck": {
            "test": ["CMD-SHELL", 'pg_isready -U "$${POSTGRES_USER:-postgres}" -d "$${POSTGRES_DB:-postgres}"'],
            "interval": "5s",
            "timeout": "5s",
            "retries": 10,
            "start_period": "10s",
        },
        "data_dir": "/var/lib/postgresql/data",
    },
    "redis": {
        "healthcheck": {"test": ["CMD", "redis-cli", "ping"], "interval": "5s", "timeout": "3s", "retries": 10},
        "data_dir": "/data",
    },
    "valkey/valkey": {
        "healthcheck": {"test": ["CMD", "valkey-cli", "ping"], "interval": "5s", "timeout": "3s", "retries": 10},
        "data_dir": "/data",
    },
    "mysql": {
        "healthcheck": {"test": ["CMD", "mysqladmin", "ping", "-h", "127.0.0.1"], "interval": "5s", "retries": 10},
        "data_dir": "/var/lib/mysql",
    },
    "mariadb": {
        "healthcheck": {"test": ["CMD", "healthcheck.sh", "--connect", "--innodb_initialized"], "interval": "5s", "retries": 10},
        "data_dir": "/var/lib/mysql",
    },
    "mongo": {
        "healthcheck": {"test": ["CMD", "mongosh", "--quiet", "--eval", "db.adminCommand('ping')"], "interval": "10s", "retries": 5},
        "data_dir": "/data/db",
    },
    "rabbitmq": {
        "healthcheck": {"test": ["CMD", "rabbitmq-diagnostics", "-q", "ping"], "interval": "10s", "retries": 5},
        "data_dir": "/var/lib/rabbitmq",
    },
    "prom/prometheus": {
        "healthcheck": {"test": ["CMD", "wget", "-q", "--spider", "http://127.0.0.1:9090/-/healthy"], "interval": "15s"},
        "data_dir": "/prometheus",
    },
    "grafana/grafana": {
        "healthcheck": {"test": ["CMD", "wget", "-q", "--spider", "http://127.0.0.1:3000/api/health"], "interval": "15s"},
        "data_dir": "/var/lib/grafana",
    },
}

# The latest patch release of each minor/major (checked 2026-12-01 against uv's list of
# CPython builds and the npm registry's node releases): `python.version: "3.12"` renders
# `ARG PYTHON_VERSION=3.12.16`. Update with dockergen releases; a build arg overrides it.
PYTHON_PATCH_RELEASES = {"3.10": "3.10.22", "3.11": "3.11.18", "3.12": "3.12.16", "3.13": "3.13.18", "3.14": "3.14.10", "3.15": "3.15.2"}
NODE_PATCH_RELEASES = {"18": "18.20.8", "20": "20.20.2", "22": "22.23.3", "24": "24.21.0", "25": "25.9.0", "26": "26.10.0"}
# The port a known image listens on, for the Kubernetes Service in front of it (Compose
# needs none: every container port is reachable on the network).
KNOWN_PORTS = {
    "postgres": 5432, "redis": 6379, "valkey/valkey": 6379, "mysql": 3306, "mariadb": 3306, "mongo": 27017,
    "rabbitmq": 5672, "prom/prometheus": 9090, "grafana/grafana": 3000, "nginx": 80, "memcached": 11211,
}  # fmt: skip

BASE_IMAGES = {
    ("python", "slim"): "docker.io/library/python:{version}-slim",
    ("python", "alpine"): "docker.io/library/python:{version}-alpine",
    ("node", "slim"): "docker.io/library/node:{version}-slim",
    ("node", "alpine"): "docker.io/library/node:{version}-alpine",
}


@dataclass(frozen=True)
class PackageManager:
    """How a node build installs, builds and prunes with one package manager."""

    tool: str  # its command
    lockfile: str
    cache: str  # its download cache: a BuildKit cache mount, in no layer
    install: tuple[str, ...]  # exactly what the lockfile says; fails when package.json disagrees
    prune: tuple[str, ...]  # drops the dev dependencies once the app is built
    dev_command: tuple[str, ...]
    test_command: tuple[str, ...]
    env: tuple[tuple[str, str], ...] = ()  # for the install and the stages on it; prod starts from base

    @property
    def corepack(self) -> bool:
        return self.tool != "npm"  # npm ships with node; yarn and pnpm come through corepack


YARN_CACHE = "/usr/local/share/.cache/yarn"  # where Yarn 1 keeps root's cache by default
YARN_BERRY_CACHE = "/usr/local/share/.cache/yarn-berry"
PNPM_STORE = "/pnpm/store"
PACKAGE_MANAGERS = {
    "npm": PackageManager(
        "npm", "package-lock.json", "/root/.npm", ("npm", "ci"), ("npm", "prune", "--omit=dev"),
        ("npm", "run", "dev"), ("npm", "test"),
    ),
    # The cache folder as a flag, not YARN_CACHE_FOLDER: Yarn 1 creates that folder on every
    # run, which the non-root dev and test stages cannot.
    "yarn": PackageManager(
        "yarn", "yarn.lock", YARN_CACHE, ("yarn", "install", "--frozen-lockfile", "--cache-folder", YARN_CACHE),
        ("yarn", "install", "--frozen-lockfile", "--production", "--cache-folder", YARN_CACHE),  # removes the rest
        ("yarn", "dev"), ("yarn", "test"),
    ),
    "yarn-berry": PackageManager(
        "yarn", "yarn.lock", YARN_BERRY_CACHE, ("yarn", "install", "--immutable"),
        ("yarn", "workspaces", "focus", "--all", "--production"),  # built in since Yarn 4
        ("yarn", "dev"), ("yarn", "test"),
        env=(
            ("YARN_CACHE_FOLDER", YARN_BERRY_CACHE),
            ("YARN_ENABLE_GLOBAL_CACHE", "false"),  # else Yarn 4 ignores YARN_CACHE_FOLDER
            # Unpacked into node_modules: Plug'n'Play would load the packages from the cache's
            # zip files, which are in the cache mount, not in the image.
            ("YARN_NODE_LINKER", "node-modules"),
            ("YARN_ENABLE_TELEMETRY", "0"),
        ),
    ),
    "pnpm": PackageManager(
        "pnpm", "pnpm-lock.yaml", PNPM_STORE, ("pnpm", "install", "--frozen-lockfile"), ("pnpm", "prune", "--prod"),
        ("pnpm", "run", "dev"), ("pnpm", "test"),
        # The store the install used: prune refuses another one. pnpm 11 reads only pnpm_config_*.
        env=(("npm_config_store_dir", PNPM_STORE), ("pnpm_config_store_dir", PNPM_STORE)),
    ),
}  # fmt: skip
# corepack runs the yarn/pnpm version package.json's `packageManager` pins, downloaded while
# the image builds; its home is outside root's, for the non-root dev and test stages.
COREPACK_ENV = (
    ("COREPACK_HOME", "/usr/local/share/corepack"),
    ("COREPACK_ENABLE_DOWNLOAD_PROMPT", "0"),
    ("COREPACK_ENABLE_AUTO_PIN", "0"),  # never write `packageManager` into a bind-mounted package.json
)
NODE_WITHOUT_COREPACK = 25  # the first Node major that no longer bundles corepack
COREPACK_PACKAGE = "corepack@0.34.7"  # installed from npm there; 0.34 runs on Node 20.10+, 22.11+, 24+

@dataclass(frozen=True)
class PythonInstaller:
    """How a python build installs its dependencies into /opt/venv with one tool."""

    tool: str
    manifests: tuple[str, ...]  # copied before the install (pip: the spec's requirement files)
    cache: str  # its download cache: a BuildKit cache mount, in no layer
    install: tuple[str, ...]  # runtime dependencies only, exactly as locked, never the project itself
    install_all: tuple[str, ...]  # and every dependency group / extra: the dev and test stages
    packages: tuple[str, ...] = ()  # what `pip install` puts into /opt/tools (pinned)
    env: tuple[tuple[str, str], ...] = ()  # for the builder and the stages on it

    @property
    def binary(self) -> str:
        return f"/opt/tools/bin/{self.tool}"


# The `[project] dependencies` of pyproject.toml as requirement lines (with `all`: every
# dependency group and extra too, less references to the project itself), for pip and a
# project without a lockfile; tomllib needs Python 3.11+.
PYPROJECT_REQUIREMENTS = (
    'python -c "import re, sys, tomllib; '
    "p = tomllib.load(open('pyproject.toml', 'rb')); j = p.get('project', {}); "
    "n = lambda r: re.sub('[-_.]+', '-', re.match('[A-Za-z0-9._-]*', r.strip()).group()).lower(); "
    "d = j.get('dependencies', []) + ([r for g in p.get('dependency-groups', {}).values() for r in g if isinstance(r, str)] "
    "+ [r for e in j.get('optional-dependencies', {}).values() for r in e] if sys.argv[1:] == ['all'] else []); "
    "print(chr(10).join(r for r in d if n(r) != n(j.get('name', ''))))\""
)

UV_VERSION = "0.13.9"
POETRY_VERSION = "2.5.1"
PDM_VERSION = "2.29.4"
PYTHON_INSTALLERS = {
    "pip": PythonInstaller("pip", (), "/root/.cache/pip", (), ()),
    # --locked: exactly uv.lock, and fail when pyproject.toml has moved on from it.
    "uv": PythonInstaller(
        "uv", ("pyproject.toml", "uv.lock"), "/root/.cache/uv",
        ("sync", "--locked", "--no-install-project", "--no-dev"),
        ("sync", "--locked", "--no-install-project", "--all-groups"),
        (f"uv=={UV_VERSION}",),
        env=(
            ("UV_PROJECT_ENVIRONMENT", "/opt/venv"),
            ("UV_PYTHON_DOWNLOADS", "never"),  # the base image's python, never one uv downloads
            ("UV_LINK_MODE", "copy"),  # the cache mount is another file system: no hard links
            ("UV_COMPILE_BYTECODE", "1"),
            ("UV_SYSTEM_CERTS", "1"),  # trust the image's CA store, like pip (a company proxy's CA)
        ),
    ),
    # Poetry installs into the active virtualenv (VIRTUAL_ENV, set in base) and refuses a
    # poetry.lock that pyproject.toml has moved on from.
    "poetry": PythonInstaller(
        "poetry", ("pyproject.toml", "poetry.lock"), "/root/.cache/pypoetry",
        ("install", "--no-root", "--no-directory", "--only", "main"),
        ("install", "--no-root", "--no-directory", "--all-groups"),
        (f"poetry=={POETRY_VERSION}",),
        env=(
            ("POETRY_NO_INTERACTION", "1"), ("POETRY_CACHE_DIR", "/root/.cache/pypoetry"), ("POETRY_VIRTUALENVS_CREATE", "false"),
            # requests (Poetry's HTTP) trusts certifi's bundle only; this is the image's CA store.
            ("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt"),
        ),
    ),
    "pdm": PythonInstaller(
        "pdm", ("pyproject.toml", "pdm.lock"), "/root/.cache/pdm",
        ("install", "--check", "--frozen-lockfile", "--no-self", "--prod"),
        ("install", "--check", "--frozen-lockfile", "--no-self", "--group", ":all"),
        # hishel 2 breaks pdm 2.29 (pdm's own `locked` extra pins 1.4, but also a certifi
        # release PyPI no longer serves).
        (f"pdm=={PDM_VERSION}", "hishel==1.4.0"),
        env=(("PDM_CHECK_UPDATE", "false"), ("PDM_CACHE_DIR", "/root/.cache/pdm"), ("PDM_PYTHON", "/opt/venv/bin/python")),
    ),
}  # fmt: skip

NGINX_IMAGE = "docker.io/nginxinc/nginx-unprivileged:{version}-alpine"
NGINX_PORT = 8080  # nginx-unprivileged listens here: no root needed for port 80
NGINX_UID = 101
FLAVOURS = ("slim", "alpine")

DOCKERIGNORE_COMMON = [
    ".git",
    ".gitignore",
    ".dockerignore",
    "**/.DS_Store",
    ".env",
    ".env.*",
    "!.env.example",
    "Dockerfile*",
    "compose*.yaml",
    "docker-compose*.yml",
    "*.md",
]
DOCKERIGNORE_BY_FAMILY = {
    "python": ["**/__pycache__", "**/*.py[cod]", ".venv", "venv", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".coverage", "htmlcov"],
    "node": ["node_modules", "npm-debug.log*", ".next", "coverage", ".npm"],
    "generic": [],
}
DOCKERIGNORE_BY_PACKAGE_MANAGER = {
    "npm": [],
    "yarn": ["yarn-error.log"],
    # Zero-install caches and Plug'n'Play files: the image installs into node_modules.
    "yarn-berry": [".yarn/cache", ".yarn/unplugged", ".yarn/install-state.gz", ".pnp.*"],
    "pnpm": [".pnpm-store"],
}
