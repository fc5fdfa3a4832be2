"""Layering: builtin < defaults < environments.<env>.defaults < service < service x env,
along `extends` chains; `null` removes, lists replace, mappings merge."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from dockergen import presets
from dockergen.errors import DockergenError
from dockergen.pipeline import load_and_resolve
from dockergen.render.compose import environment_document
from dockergen.resolve import ResolvedProject, ResolvedService


def resolve_spec(tmp_path: Path, body: str) -> ResolvedProject:
    path = tmp_path / "dockergen.yaml"
    path.write_text("version: 1\nproject: demo\n" + textwrap.dedent(body))
    return load_and_resolve(path)[2]


def service(project: ResolvedProject, env: str, name: str) -> ResolvedService:
    return project.environments[env].services[name]


def environment(project: ResolvedProject, env: str, name: str) -> dict[str, Any]:
    return dict(service(project, env, name).settings.environment or {})


LAYERS = """
defaults:
  restart: on-failure                       # beats the built-in `always` of prod
  environment: {L1: defaults, L2: defaults, L3: defaults, L4: defaults}
environments:
  prod:
    defaults:
      environment: {L2: env-defaults, L3: env-defaults, L4: env-defaults}
  dev: {}
services:
  web:
    image: nginx:1.27
    environment: {L3: service, L4: service}
    environments:
      prod: {environment: {L4: service-env}}
"""


def test_each_layer_overrides_the_ones_below(tmp_path: Path) -> None:
    project = resolve_spec(tmp_path, LAYERS)
    assert environment(project, "prod", "web") == {"L1": "defaults", "L2": "env-defaults", "L3": "service", "L4": "service-env"}
    assert environment(project, "dev", "web") == {"L1": "defaults", "L2": "defaults", "L3": "service", "L4": "service"}


def test_builtin_layer_is_the_lowest(tmp_path: Path) -> None:
    project = resolve_spec(tmp_path, LAYERS)
    prod = service(project, "prod", "web").settings
    assert prod.restart == "on-failure"  # the spec's defaults beat the built-in `always`
    assert prod.logging is not None and prod.logging.options == presets.BY_KIND["prod"]["logging"]["options"]
    assert service(project, "dev", "web").settings.logging is None  # dev has no built-in logging policy


def test_builtin_known_image_preset_is_below_the_service(tmp_path: Path) -> None:
    project = resolve_spec(
        tmp_path,
        """
        environments: {prod: {}}
        services:
          db: {image: "postgres:16"}
          db2:
            image: postgres:16
            healthcheck: {interval: 1s}
        """,
    )
    preset = presets.KNOWN_IMAGES["postgres"]["healthcheck"]
    db = service(project, "prod", "db").settings.healthcheck
    assert db is not None and db.test == preset["test"] and db.interval == preset["interval"]
    db2 = service(project, "prod", "db2").settings.healthcheck
    assert db2 is not None and db2.interval == "1s" and db2.test == preset["test"], "mappings merge key by key"


def test_null_removes_a_key_from_a_lower_spec_layer(tmp_path: Path) -> None:
    project = resolve_spec(
        tmp_path,
        """
        defaults:
          environment: {KEEP: "1", DROP: "2"}
          user: "1000"
        environments: {prod: {defaults: {stop_signal: SIGINT}}}
        services:
          web:
            image: nginx
            environment: {DROP: null}
            user: null
            environments:
              prod: {stop_signal: null}
        """,
    )
    web = service(project, "prod", "web").settings
    assert environment(project, "prod", "web") == {"KEEP": "1"}
    assert web.user is None and web.stop_signal is None


def test_null_removes_a_built_in_default(tmp_path: Path) -> None:
    project = resolve_spec(
        tmp_path,
        """
        environments: {prod: {}}
        services:
          web:
            image: nginx
            restart: null            # the built-in `always` of prod
            logging: null            # the built-in json-file rotation
          db:
            image: postgres:16
            healthcheck: null        # the known image's preset
        """,
    )
    web = service(project, "prod", "web").settings
    assert web.restart is None and web.logging is None
    assert service(project, "prod", "db").healthcheck is None
    document = environment_document(project, project.environments["prod"])
    assert "restart" not in document["services"]["web"] and "logging" not in document["services"]["web"]
    assert "healthcheck" not in document["services"]["db"]


def test_null_in_an_environment_block_removes_a_service_setting_there_only(tmp_path: Path) -> None:
    project = resolve_spec(
        tmp_path,
        """
        environments: {dev: {}, prod: {}}
        services:
          web:
            image: nginx
            environment: {DEBUG: "1", NAME: web}
            environments:
              prod: {environment: {DEBUG: null}}
        """,
    )
    assert environment(project, "dev", "web") == {"DEBUG": "1", "NAME": "web"}
    assert environment(project, "prod", "web") == {"NAME": "web"}


def test_lists_replace_instead_of_appending(tmp_path: Path) -> None:
    project = resolve_spec(
        tmp_path,
        """
        defaults:
          cap_add: [NET_ADMIN, SYS_TIME]
          ports: ["1:1"]
        environments: {dev: {}, prod: {}, test: {}}
        services:
          web:
            image: nginx
            cap_add: [CHOWN]
            environments:
              prod: {ports: ["80:80"]}
              test: {cap_add: []}
        """,
    )
    assert list(service(project, "dev", "web").settings.cap_add or []) == ["CHOWN"]
    assert list(service(project, "prod", "web").settings.ports or []) == ["80:80"]
    assert list(service(project, "prod", "web").settings.cap_add or []) == ["CHOWN"]
    assert service(project, "test", "web").settings.cap_add == []


def test_a_network_or_dependency_written_name_null_is_joined_unless_it_removes_one(tmp_path: Path) -> None:
    """Compose's `networks: {edge:}` / `depends_on: {db:}` is an entry without options: a `null`
    with nothing below to remove is that entry (it used to vanish: the service ran on the
    default network, before its database); over an entry set below it removes it."""
    project = resolve_spec(
        tmp_path,
        """
        environments: {dev: {}, prod: {}}
        networks: {front: null, back: null}
        services:
          db: {image: postgres:16}
          fresh:
            image: alpine
            environments:
              prod: {networks: {back: null}, depends_on: {db: null}}
          mapped:
            image: alpine
            networks: {front: null}
            depends_on: {db: null}
            environments:
              prod: {networks: {front: null, back: null}, depends_on: {db: null}}
        """,
    )
    assert service(project, "dev", "fresh").settings.networks is None
    assert service(project, "prod", "fresh").settings.networks == {"back": None}
    assert service(project, "prod", "fresh").settings.depends_on == {"db": None}
    assert service(project, "dev", "mapped").settings.networks == {"front": None}
    assert service(project, "dev", "mapped").settings.depends_on == {"db": None}
    assert service(project, "prod", "mapped").settings.networks == {"back": None}
    assert not service(project, "prod", "mapped").settings.depends_on
    document = environment_document(project, project.environments["prod"])
    assert document["services"]["fresh"]["networks"] == {"back": None}
    assert document["services"]["fresh"]["depends_on"] == {"db": {"condition": "service_healthy"}}


def test_an_environment_removes_one_label_sysctl_ulimit_annotation_or_storage_option(tmp_path: Path) -> None:
    """`KEY: null` removes an entry set below, as it does under `environment`: prod can drop
    a label the service sets (these mappings used to refuse a null, so it could not)."""
    project = resolve_spec(
        tmp_path,
        """
        environments: {dev: {}, prod: {}}
        defaults: {labels: {team: core}}
        services:
          api:
            image: alpine
            labels: {debug: "1", keep: "yes"}
            sysctls: {net.core.somaxconn: 1024, net.ipv4.tcp_syncookies: 0}
            ulimits: {nofile: 4096, nproc: 512}
            annotations: {trace: "on", owner: web}
            storage_opt: {size: 1G}
            environments:
              prod:
                labels: {debug: null, team: null}
                sysctls: {net.ipv4.tcp_syncookies: null}
                ulimits: {nproc: null}
                annotations: {trace: null}
                storage_opt: {size: null}
        """,
    )
    dev, prod = service(project, "dev", "api").settings, service(project, "prod", "api").settings
    assert dev.labels == {"team": "core", "debug": "1", "keep": "yes"}
    assert prod.labels == {"keep": "yes"}
    assert prod.sysctls == {"net.core.somaxconn": 1024}
    assert prod.ulimits == {"nofile": 4096}
    assert prod.annotations == {"owner": "web"}
    assert not prod.storage_opt
    service_doc = environment_document(project, project.environments["prod"])["services"]["api"]
    assert service_doc["labels"] == {"keep": "yes"}
    assert "storage_opt" not in service_doc  # every entry removed: nothing written


def test_mapping_ports_merge_by_name_and_null_removes_one(tmp_path: Path) -> None:
    project = resolve_spec(
        tmp_path,
        """
        environments: {dev: {}, prod: {}}
        services:
          web:
            image: nginx
            ports: {http: "80:80", admin: "9000:9000"}
            environments:
              dev: {ports: {debug: "5678:5678"}}
              prod: {ports: {admin: null}}
        """,
    )
    assert service(project, "dev", "web").settings.ports == {"http": "80:80", "admin": "9000:9000", "debug": "5678:5678"}
    assert service(project, "prod", "web").settings.ports == {"http": "80:80"}


EXTENDS = """
environments:
  dev: {}
  prod:
    defaults:
      environment: {FROM_PROD_DEFAULTS: "1", OVERRIDE: prod, X: prod-defaults}
  canary:
    extends: prod
    defaults:
      environment: {OVERRIDE: canary, X: canary-defaults}
  canary-eu:
    extends: canary
services:
  web:
    image: nginx
    environments:
      prod: {environment: {FROM_PROD_BLOCK: "1", BLOCK: prod, X: prod-block}}
      canary: {environment: {BLOCK: canary}}
      canary-eu: {environment: {REGION: eu}}
"""


def test_a_child_environment_sees_the_parents_defaults_and_service_blocks(tmp_path: Path) -> None:
    project = resolve_spec(tmp_path, EXTENDS)
    assert project.environments["canary"].info.chain == ("prod", "canary")
    assert environment(project, "canary", "web") == {
        "FROM_PROD_DEFAULTS": "1",
        "OVERRIDE": "canary",  # the child's defaults beat the parent's defaults
        "FROM_PROD_BLOCK": "1",
        "BLOCK": "canary",  # the child's block beats the parent's block
        "X": "prod-block",  # any service block (layer 5) beats any environment defaults (layer 3)
    }


def test_extends_chains_of_three(tmp_path: Path) -> None:
    project = resolve_spec(tmp_path, EXTENDS)
    assert project.environments["canary-eu"].info.chain == ("prod", "canary", "canary-eu")
    assert environment(project, "canary-eu", "web") == {
        "FROM_PROD_DEFAULTS": "1",
        "OVERRIDE": "canary",
        "FROM_PROD_BLOCK": "1",
        "BLOCK": "canary",
        "X": "prod-block",
        "REGION": "eu",
    }


def test_extends_does_not_leak_into_other_environments(tmp_path: Path) -> None:
    project = resolve_spec(tmp_path, EXTENDS)
    assert environment(project, "dev", "web") == {}
    assert environment(project, "prod", "web") == {
        "FROM_PROD_DEFAULTS": "1",
        "OVERRIDE": "prod",
        "X": "prod-block",
        "FROM_PROD_BLOCK": "1",
        "BLOCK": "prod",
    }


def test_enabled_false_removes_a_service_from_one_environment(tmp_path: Path) -> None:
    project = resolve_spec(
        tmp_path,
        """
        environments: {dev: {}, prod: {}}
        services:
          web: {image: nginx}
          mail:
            image: mailhog/mailhog
            environments:
              prod: {enabled: false}
        """,
    )
    assert set(project.environments["dev"].services) == {"web", "mail"}
    assert set(project.environments["prod"].services) == {"web"}
    assert "mail" not in environment_document(project, project.environments["prod"])["services"]


def test_enabled_layers_like_any_setting(tmp_path: Path) -> None:
    """Disabled by an environment's defaults, re-enabled by one service's block there."""
    project = resolve_spec(
        tmp_path,
        """
        environments:
          dev: {}
          smoke: {defaults: {enabled: false}}
          smoke-child: {extends: smoke}
        services:
          web:
            image: nginx
            environments:
              smoke: {enabled: true}
          worker: {image: busybox}
        """,
    )
    assert set(project.environments["dev"].services) == {"web", "worker"}
    assert set(project.environments["smoke"].services) == {"web"}
    assert set(project.environments["smoke-child"].services) == {"web"}


DEPENDS = """
environments: {dev: {}, prod: {}}
services:
  app:
    image: busybox
    depends_on: [db, cache, plain, off, late]
  db: {image: "postgres:16"}          # known image: preset healthcheck
  cache:
    image: busybox
    healthcheck: {test: [CMD, "true"]}
  plain: {image: busybox}
  off:
    image: postgres:16
    healthcheck: {disable: true}
  late:
    image: busybox
    environments:
      prod: {healthcheck: {test: [CMD, "true"]}}
"""


def conditions(project: ResolvedProject, env: str, name: str) -> dict[str, str]:
    document = environment_document(project, project.environments[env])
    return {dep: entry["condition"] for dep, entry in document["services"][name]["depends_on"].items()}


def test_default_depends_on_condition_follows_the_dependencys_healthcheck(tmp_path: Path) -> None:
    project = resolve_spec(tmp_path, DEPENDS)
    assert conditions(project, "dev", "app") == {
        "db": "service_healthy",
        "cache": "service_healthy",
        "plain": "service_started",
        "off": "service_started",
        "late": "service_started",
    }
    assert conditions(project, "prod", "app")["late"] == "service_healthy", "per environment"


def test_an_explicit_depends_on_condition_is_kept(tmp_path: Path) -> None:
    project = resolve_spec(
        tmp_path,
        """
        environments: {dev: {}}
        services:
          app:
            image: busybox
            depends_on:
              db: {condition: service_started}
              migrate: {condition: service_completed_successfully}
              plain: {required: false}
          db: {image: "postgres:16"}
          migrate: {image: busybox}
          plain: {image: busybox}
        """,
    )
    document = environment_document(project, project.environments["dev"])
    assert document["services"]["app"]["depends_on"] == {
        "db": {"condition": "service_started"},
        "migrate": {"condition": "service_completed_successfully"},
        "plain": {"condition": "service_started", "required": False},
    }


@pytest.mark.parametrize(
    ("name", "declared", "kind", "engine"),
    [
        ("dev", "{}", "dev", "docker"),
        ("test", "{}", "test", "docker"),
        ("staging", "{}", "staging", "docker"),
        ("prod", "{}", "prod", "docker"),
        ("podman", "{}", "prod", "podman"),
        ("qa", "{}", "prod", "docker"),  # not a standard name: prod, the safe default
        ("qa", "{kind: test}", "test", "docker"),
        ("prod", "{kind: staging, engine: podman}", "staging", "podman"),
        ("local", "{extends: dev}", "dev", "docker"),  # the parent's kind
        ("rootless", "{extends: podman}", "prod", "podman"),  # the parent's engine
        ("preview", "{extends: staging}", "staging", "docker"),
    ],
)
def test_kind_and_engine_defaults(tmp_path: Path, name: str, declared: str, kind: str, engine: str) -> None:
    parents = "".join(f"  {p}: {{}}\n" for p in ("dev", "staging", "podman") if p != name and p in declared)
    project = resolve_spec(tmp_path, f"environments:\n{parents}  {name}: {declared}\nservices: {{web: {{image: nginx}}}}\n")
    info = project.environments[name].info
    assert (info.kind, info.engine) == (kind, engine)


def test_without_environments_the_standard_five_are_rendered(tmp_path: Path) -> None:
    project = resolve_spec(tmp_path, "services: {web: {image: nginx}}\n")
    assert {name: (e.info.kind, e.info.engine) for name, e in project.environments.items()} == {
        "dev": ("dev", "docker"),
        "test": ("test", "docker"),
        "staging": ("staging", "docker"),
        "prod": ("prod", "docker"),
        "podman": ("prod", "podman"),
    }


def test_the_kind_picks_the_build_target_and_policy(tmp_path: Path) -> None:
    project = resolve_spec(
        tmp_path,
        """
        environments: {dev: {}, test: {}, staging: {}, prod: {}, qa: {extends: test}}
        services:
          api:
            build: {family: python, context: api, port: 8000, python: {app: "app.main:app"}}
          db: {image: "postgres:16"}
        """,
    )
    targets = {env: service(project, env, "api").target for env in project.environments}
    assert targets == {"dev": "dev", "test": "test", "staging": "prod", "prod": "prod", "qa": "test"}
    assert service(project, "dev", "api").settings.source_mount is True
    assert service(project, "prod", "api").settings.source_mount is None
    assert service(project, "qa", "api").settings.restart == "no"
    assert list(service(project, "prod", "api").settings.cap_drop or []) == ["ALL"]
    assert service(project, "prod", "db").settings.cap_drop is None, "third-party images keep their capabilities"


def test_an_environment_target_the_dockerfile_lacks_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DockergenError) as caught:
        resolve_spec(
            tmp_path,
            """
            environments: {prod: {}}
            services:
              api:
                build: {family: python}
                environments:
                  prod: {target: release}
            """,
        )
    (problem,) = caught.value.problems
    assert problem.path[:2] == ("services", "api")
    assert "'release'" in problem.message and "stages: base, builder, dev, test, source, prod" in (problem.hint or "")


def test_an_environment_target_the_dockerfile_lacks_points_at_where_it_was_set(tmp_path: Path) -> None:
    with pytest.raises(DockergenError) as caught:
        resolve_spec(
            tmp_path,
            """
            environments: {prod: {}}
            services:
              api:
                build: {family: python}
                environments:
                  prod: {target: release}
            """,
        )
    (problem,) = caught.value.problems
    assert problem.path == ("services", "api", "environments", "prod", "target")
    assert "'release'" in problem.message
    assert problem.location is not None and problem.location.line == 9
