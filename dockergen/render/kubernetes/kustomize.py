"""Lay the environments' resources out as a kustomize base and one overlay per environment.

The base holds what every deploying environment has in common: the resources all of
them have, each reduced to the fields with the same value everywhere (``common``). An
overlay adds exactly the rest, as strategic-merge patches (``difference``), plus its
namespace, its image tags (`images:`) and the resources only it has. As the base is part
of every environment, an overlay never removes anything, so patches hold no deletions.

Lists Kubernetes merges by a key (containers and volumes by name, mounts by path, ports
by number) are compared item by item; every other list is one value.
"""

from __future__ import annotations

from typing import Any

from dockergen.render.kubernetes.values import Image, split_image

_KEYS = {"containers": ("name",), "initContainers": ("name",), "volumes": ("name",), "volumeMounts": ("mountPath",), "ports": ("containerPort", "port")}
_MISSING = object()
KUSTOMIZATION = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization"}


def _merge_key(field: str, *lists: list[Any]) -> str | None:
    for key in _KEYS.get(field, ()):
        items = [item for items in lists for item in items]
        if items and all(isinstance(item, dict) and key in item for item in items):
            return key
    return None


def common(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """The fields ``a`` and ``b`` share, with the same value (in ``a``'s order)."""
    out: dict[str, Any] = {}
    for key, value in a.items():
        if key in b:
            shared = _common_value(key, value, b[key])
            if shared is not _MISSING:
                out[key] = shared
    return out


def _common_value(field: str, a: Any, b: Any) -> Any:
    if a == b:
        return a
    if isinstance(a, dict) and isinstance(b, dict):
        return common(a, b) or _MISSING
    if isinstance(a, list) and isinstance(b, list) and (key := _merge_key(field, a, b)) is not None:
        others = {item[key]: item for item in b}
        shared = [{key: item[key], **common(item, others[item[key]])} for item in a if item[key] in others]
        return shared or _MISSING
    return _MISSING


def difference(full: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """What ``full`` has beyond ``base`` (which it contains), as a strategic-merge patch."""
    out: dict[str, Any] = {}
    for field, value in full.items():
        if field not in base:
            out[field] = value
        elif value != base[field]:
            if isinstance(value, dict):
                out[field] = difference(value, base[field])
            elif isinstance(value, list) and (key := _merge_key(field, value, base[field])) is not None:
                known = {item[key]: item for item in base[field]}
                items = [item if item[key] not in known else {key: item[key], **difference(item, known[item[key]])} for item in value]
                out[field] = [item for item in items if len(item) > 1 or item[key] not in known]
            else:
                out[field] = value
    return out


def identity(resource: dict[str, Any]) -> dict[str, Any]:
    """What a patch needs to find its target."""
    return {"apiVersion": resource["apiVersion"], "kind": resource["kind"], "metadata": {"name": resource["metadata"]["name"]}}


def factored_images(images: dict[str, dict[str, set[str]]], built: set[str]) -> set[str]:
    """Image names whose tag the overlays set with `images:`: every built image, and any
    other that differs between environments, unless one environment runs two tags of it
    (`images:` would retag both)."""
    names: set[str] = set()
    for name in {n for per_env in images.values() for n in per_env}:
        variants = [per_env[name] for per_env in images.values() if name in per_env]
        if any(len(v) != 1 for v in variants):
            continue
        if name in built or len({next(iter(v)) for v in variants}) > 1:
            names.add(name)
    return names


def image_entries(images: dict[str, set[str]], factored: set[str]) -> list[dict[str, Any]]:
    out = []
    for name in sorted(factored & set(images)):
        image: Image = split_image(next(iter(images[name])))
        entry: dict[str, Any] = {"name": name}
        if image.tag:
            entry["newTag"] = image.tag
        if image.digest:
            entry["digest"] = image.digest
        if len(entry) > 1:
            out.append(entry)
    return out


def strip_tags(resource: dict[str, Any], factored: set[str]) -> dict[str, Any]:
    """``resource`` with the containers of ``factored`` images naming the image only."""
    if resource.get("kind") != "Deployment":
        return resource
    pod = resource["spec"]["template"]["spec"]
    updated = {}
    for field in ("initContainers", "containers"):
        if field in pod:
            updated[field] = [
                {**c, "image": split_image(c["image"]).name} if split_image(c["image"]).name in factored else c for c in pod[field]
            ]
    template = {**resource["spec"]["template"], "spec": {**pod, **updated}}
    return {**resource, "spec": {**resource["spec"], "template": template}}
