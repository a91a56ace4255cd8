"""The lowest supabase-py that pyproject.toml admits really runs the Supabase gateway.

api/gateway.py builds its client with `ClientOptions(httpx_client=..., postgrest_client_retry=False)`;
`postgrest_client_retry` only exists from supabase 2.34.0, and the former floor (2.4) let a fresh
install crash at start. This test reads the floor from pyproject.toml, installs exactly that
supabase release into .venv-supabase-floor/<version>/ (git-ignored, kept between runs) together
with whatever it requires that the project's venv does not satisfy (for 2.34: the sibling packages
it pins exactly: postgrest, supabase-auth, storage3, realtime, supabase-functions — the client's
whole API), and has that combination, in front of the project's venv, construct SupabaseGateway
and make one RPC through the PostgREST stand-in. Lowering the floor below what the code uses fails here; raising it just
installs the new floor. Needs the package index once per floor, as `make deps` does.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from api.gateway import PostgresGateway
from conftest import SUNRISE
from postgrest_standin import PostgrestStandIn, service_role_key

ROOT = Path(__file__).resolve().parents[1]

# Runs with the floor's packages first on sys.path and the project's venv behind them.
CONSTRUCT_AND_CALL = """
import json, sys
from importlib.metadata import version
from api.gateway import SupabaseGateway

url, key, org = sys.argv[1:4]
gateway = SupabaseGateway(url, key)
try:
    reply = gateway.rpc("get_org_profile", {"p_org_id": org})
finally:
    gateway.close()
print(json.dumps({"supabase": version("supabase"), "reply": reply}))
"""


def supabase_floor() -> str:
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    (spec,) = [d for d in dependencies if re.match(r"supabase\s*[<>=]", d)]
    match = re.fullmatch(r"supabase\s*>=\s*([0-9.]+)\s*,\s*<\s*3", spec)
    assert match, f"expected 'supabase>=X,<3' in pyproject.toml, found {spec!r}"
    return match.group(1)


def pip_install(target: Path, *requirements: str) -> None:
    result = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check",
                             "--no-deps", "--target", str(target), *requirements],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"pip install {' '.join(requirements)} failed:\n{result.stderr[-3000:]}"


def unmet_requirements(target: Path) -> set[str]:
    """Requirements of the packages in target that neither target nor the project's venv meet."""
    from importlib.metadata import PackageNotFoundError, distributions, version
    from packaging.requirements import Requirement

    in_target = {d.metadata["Name"].lower().replace("_", "-"): d.version for d in distributions(path=[str(target)])}
    unmet = set()
    for dist in distributions(path=[str(target)]):
        for req in map(Requirement, dist.requires or []):
            if req.marker and not req.marker.evaluate({"extra": ""}):
                continue
            name = req.name.lower().replace("_", "-")
            try:
                found = in_target.get(name) or version(req.name)
            except PackageNotFoundError:
                found = None
            if found is None or not req.specifier.contains(found, prereleases=True):
                unmet.add(f"{req.name}{req.specifier}")
    return unmet


def floor_packages(floor: str) -> Path:
    """supabase==floor, plus whatever it requires that the project's venv does not already satisfy
    (for 2.34: its exactly pinned siblings), each installed without further dependencies."""
    target = ROOT / ".venv-supabase-floor" / floor
    done = target / ".complete"
    if done.exists():
        return target
    pip_install(target, f"supabase=={floor}")
    for _ in range(10):
        unmet = unmet_requirements(target)
        if not unmet:
            done.touch()
            return target
        pip_install(target, *sorted(unmet))
    raise AssertionError(f"supabase=={floor}: requirements still unmet: {sorted(unmet)}")


def test_pyproject_floor_admits_no_release_without_postgrest_client_retry():
    # The fast, offline half: ClientOptions(postgrest_client_retry=...) first shipped in supabase
    # 2.34.0 (2.33.0's ClientOptions has no such field). The test below proves the floor by running it.
    assert tuple(int(part) for part in supabase_floor().split(".")) >= (2, 34)


def test_lowest_allowed_supabase_constructs_the_gateway_and_calls_an_rpc(database_url):
    floor = supabase_floor()
    target = floor_packages(floor)
    with PostgrestStandIn(database_url) as standin:
        result = subprocess.run([sys.executable, "-c", CONSTRUCT_AND_CALL, standin.url, service_role_key(), SUNRISE],
                                cwd=ROOT, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": f"{target}:{ROOT}"},
                                capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    parts = out["supabase"].split(".")
    # exactly the floor ran (a floor of 2.34 installs 2.34.0) ...
    assert parts[:len(floor.split("."))] == floor.split(".") and set(parts[len(floor.split(".")):]) <= {"0"}, parts
    # ... and through it the RPC answers what the embedded path answers
    embedded = PostgresGateway(database_url, max_size=1)
    try:
        assert out["reply"] == json.loads(json.dumps(embedded.rpc("get_org_profile", {"p_org_id": SUNRISE})))
    finally:
        embedded.close()
