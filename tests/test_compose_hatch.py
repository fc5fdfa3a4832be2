"""The `compose:` escape hatch is merged over the rendered service and changes only what it
names: a network joined without options (`edge:`, a null in Compose) stays joined. Judged by
the real Compose CLI: the service with a hatch must equal the one without it, plus the hatch."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dockergen.pipeline import render
from tests.tools import compose_config

NETWORKS = ["edge", "internal", "metrics"]


def _config(directory: Path, spec: str) -> dict:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "dockergen.yaml").write_text(spec)
    for rendered in render(directory / "dockergen.yaml").files:
        (directory / rendered.path).parent.mkdir(parents=True, exist_ok=True)
        (directory / rendered.path).write_text(rendered.content)
    return compose_config(directory, [directory / "compose.yaml", directory / "compose.dev.yaml"])


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    joined=st.lists(st.sampled_from(NETWORKS), min_size=1, unique=True),
    aliased=st.booleans(),
    hatch=st.dictionaries(st.sampled_from(["x-notes", "x-owner", "stdin_open"]), st.sampled_from(["team api", True]), min_size=1),
)
def test_a_hatch_leaves_the_services_networks_as_they_were(joined: list[str], aliased: bool, hatch: dict, tmp_path_factory) -> None:  # noqa: ANN001
    hatch = {k: (bool(v) if k == "stdin_open" else str(v)) for k, v in hatch.items()}
    # the spec's forms: a list, or a mapping where `{}` joins without options (a spec null removes)
    networks = {n: ({"aliases": [f"{n}-api"]} if i == 0 else {}) for i, n in enumerate(joined)} if aliased else joined
    body = (
        "version: 1\nproject: shop\nenvironments: {dev: {}}\n"
        f"networks: {{{', '.join(f'{n}: {{}}' for n in NETWORKS)}}}\n"
        "services:\n  api:\n    image: nginx:1.27\n"
        f"    networks: {networks!r}\n".replace("'", '"')
    )
    root = tmp_path_factory.mktemp("hatch")
    plain = _config(root / "plain", body)["services"]["api"]
    with_hatch = _config(root / "hatch", body + f"    compose: {hatch!r}\n".replace("True", "true").replace("'", '"'))["services"]["api"]
    assert set(with_hatch["networks"]) == set(joined)
    assert with_hatch == {**plain, **{k: v for k, v in hatch.items() if not k.startswith("x-")}}  # config drops x- keys
