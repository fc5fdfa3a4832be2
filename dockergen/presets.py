"""Built-in defaults: the lowest layer of every resolved service.

Everything dockergen bakes in without being asked lives here as data, so that a reader
can see (and a user can override) each default in one place.
"""

from __future__ import annotations

from typing import Any

STANDARD_ENVIRONMENTS: dict[str, dict[str, Any]] = {
    "dev": {"kind": "dev"},
    "test": {"kind": "test"},
    "staging": {"kind": "staging"},
    "prod": {"kind": "prod"},
    "podman": {"kind": "prod", "engine": "podman"},
}

# The build stage each kind of environment runs.
TARGET_BY_KIND = {"dev": "dev", "test": "test", "staging": "prod", "prod": "prod"}

HEALTHCHECK_TIMING = {"interval": "30s", "timeout": "5s", "start_period": "15s", "retries": 3, "start_interval": "1s"}

# Policy per kind of environment, applied to every service.
BY_KIND: dict[str, dict[str, Any]] = {
    "dev": {},
    "test": {"restart": "no"},
    "staging": {
        "restart": "unless-stopped",
        "logging": {"driver": "json-file", "options": {"max-size": "10m", "max-file": "3"}},
        "resources": {"limits": {"cpus": 1.0, "memory": "512M"}, "reservations": {"cpus": 0.1, "memory": "64M"}},
    },
    "prod": {
        "restart": "always",
        "logging": {"driver": "json-file", "options": {"max-size": "10m", "max-file": "5"}},
        "resources": {"limits": {"cpus": 1.0, "memory": "512M"}, "reservations": {"cpus": 0.25, "memory": "128M"}},
    },
}

# Extra policy for services whose image dockergen builds (we know they run as non-root
# and need no capabilities; third-party images may).
BUILT_BY_KIND: dict[str, dict[str, Any]] = {
    "dev": {"source_mount": True, "debug_port": True},
    "test": {},
    "staging": {"init": True, "cap_drop": ["ALL"], "security_opt": ["no-new-privileges:true"]},
    "prod": {"init": True, "cap_drop": ["ALL"], "security_opt": ["no-new-privileges:true"]},
}

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

BASE_IMAGES = {
    ("python", "slim"): "docker.io/library/python:{version}-slim",
    ("python", "alpine"): "docker.io/library/python:{version}-alpine",
    ("node", "slim"): "docker.io/library/node:{version}-slim",
    ("node", "alpine"): "docker.io/library/node:{version}-alpine",
}
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
