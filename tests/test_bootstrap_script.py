"""out/bootstrap.sh, run for real against fake minikube/terraform/kubectl/flux/curl executables that record their
calls: the order of the steps, Vault init and unseal, a failed wait that stops naming its step, and a re-run that
resumes after the last finished step. Also: shellcheck, --dry-run and README's "Bring it up" agree."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from konoha_gen.pipeline import build
from tests.conftest import SPEC

#: Fake tools. Each logs its argv to $CALLS. kubectl plays a cluster: a Vault that is sealed until unsealed,
#: port-forwards that really listen (so the script's port check passes) and a Kustomization that never becomes
#: Ready when $FAIL_AT names it.
FAKE_TOOL = """#!/usr/bin/env bash
echo "$(basename "$0") $*" >>"$CALLS"
exit 0
"""
FAKE_KUBECTL = r"""#!/usr/bin/env bash
echo "kubectl $*" >>"$CALLS"
args="$*"
pod="${args#*exec }"; pod="${pod%% *}"
case "$args" in
  *"port-forward"*)
    port="${args##* }"; port="${port%%:*}"
    exec python3 -c "import socket,sys; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', int(sys.argv[1]))); s.listen()
while True: s.accept()[0].close()" "$port" ;;
  *"vault operator init"*)
    touch "$FAKE_STATE/initialised"
    printf 'Unseal Key 1: fake-unseal-key\nInitial Root Token: fake-root-token\n' ;;
  *"vault operator unseal"*) touch "$FAKE_STATE/unsealed-$pod" ;;
  *"vault status -format=json"*) [ -e "$FAKE_STATE/initialised" ]; exit $? ;;
  *"vault status"*) [ -e "$FAKE_STATE/unsealed-$pod" ]; exit $? ;;
  *"wait kustomization/$FAIL_AT "*) [ -z "$FAIL_AT" ]; exit $? ;;
  *"get namespace kube-system"*) printf '%s' "${FAKE_UID:-cluster-1}" ;;
esac
exit 0
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bootstrap") / "out"
    build(SPEC, out)
    return out


@pytest.fixture
def fakes(tmp_path: Path) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("minikube", "terraform", "flux", "curl"):
        (bin_dir / tool).write_text(FAKE_TOOL)
    (bin_dir / "kubectl").write_text(FAKE_KUBECTL)
    for executable in bin_dir.iterdir():
        executable.chmod(0o755)
    (tmp_path / "cluster").mkdir()
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "CALLS": str(tmp_path / "calls.log"),
            "FAKE_STATE": str(tmp_path / "cluster"), "KONOHA_STATE": str(tmp_path / "state"), "FAIL_AT": "",
            "KONOHA_TIMEOUT": "2", "KONOHA_POLL": "1", "KONOHA_VAULT_PORT": str(_free_port()),
            "KONOHA_KEYCLOAK_PORT": str(_free_port()), "KONOHA_MINIO_PORT": str(_free_port())}


def _run(tree: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(tree / "bootstrap.sh"), *args], env=env, capture_output=True, text=True,
                          timeout=120, check=False)


def _calls(env: dict[str, str]) -> list[str]:
    return Path(env["CALLS"]).read_text().splitlines() if Path(env["CALLS"]).exists() else []


def _first(calls: list[str], pattern: str) -> int:
    return next(i for i, call in enumerate(calls) if re.search(pattern, call))


def test_bootstrap_passes_shellcheck(tree: Path) -> None:
    if shutil.which("shellcheck") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("shellcheck is not installed (scripts/ensure-test-databases.sh installs it)")
        pytest.skip("shellcheck not installed")
    result = subprocess.run(["shellcheck", "-x", str(tree / "bootstrap.sh")], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stdout


def test_the_steps_run_in_order_through_vault_unseal_and_the_three_terraform_stages(
        tree: Path, fakes: dict[str, str]) -> None:
    result = _run(tree, fakes)
    assert result.returncode == 0, result.stderr
    calls = _calls(fakes)
    cluster = _first(calls, r"terraform -chdir=\S+/terraform/00-cluster apply")
    sources = _first(calls, r"wait kustomization/sources ")
    operators = _first(calls, r"wait kustomization/operators ")
    vault_ready = _first(calls, r"wait kustomization/security ")
    unseal = _first(calls, r"exec vault-0 -- vault operator unseal fake-unseal-key")
    vault_stage = _first(calls, r"terraform -chdir=\S+/terraform/10-vault apply")
    identity = _first(calls, r"wait kustomization/identity ")
    identity_stage = _first(calls, r"terraform -chdir=\S+/terraform/20-identity apply")
    storage = _first(calls, r"wait kustomization/storage ")
    storage_stage = _first(calls, r"terraform -chdir=\S+/terraform/30-storage apply")
    later = _first(calls, r"wait kustomization/compute ")
    assert cluster < sources < operators < vault_ready < unseal < vault_stage < identity < identity_stage
    assert vault_stage < storage < storage_stage < later
    # the providers reach their servers through port-forwards opened by the script
    assert any(re.search(r"port-forward svc/vault \d+:8200", c) for c in calls[unseal:vault_stage])
    assert any(re.search(r"port-forward svc/keycloak-http \d+:80", c) for c in calls[identity:identity_stage])
    # the unseal material stays in the local state folder, readable by its owner only
    init = Path(fakes["KONOHA_STATE"]) / "vault-init"
    assert "Initial Root Token" in init.read_text() and oct(init.stat().st_mode & 0o777) == "0o600"


def test_a_failed_wait_stops_naming_its_step_and_a_re_run_resumes(tree: Path, fakes: dict[str, str]) -> None:
    failed = _run(tree, {**fakes, "FAIL_AT": "storage"})
    assert failed.returncode == 1
    assert "step storage failed: Kustomization flux-system/storage did not become Ready within 2s" in failed.stderr
    assert not any("terraform/30-storage apply" in c for c in _calls(fakes))  # nothing after the failed step ran
    Path(fakes["CALLS"]).unlink()
    resumed = _run(tree, fakes)
    assert resumed.returncode == 0, resumed.stderr
    calls = _calls(fakes)
    assert not any("00-cluster" in c or "10-vault" in c for c in calls)  # finished steps are not run again
    assert _first(calls, r"wait kustomization/storage ") < _first(calls, r"terraform/30-storage apply")
    assert "cluster: done before, skipped" in resumed.stderr


def test_a_re_run_on_another_cluster_starts_afresh_and_always_rechecks_vault(tree: Path, fakes: dict[str, str]) -> None:
    assert _run(tree, fakes).returncode == 0
    Path(fakes["CALLS"]).unlink()
    same = _run(tree, fakes)
    assert same.returncode == 0
    calls = _calls(fakes)
    assert not any("terraform/00-cluster apply" in c for c in calls)
    assert any("exec vault-0 -- vault status" in c for c in calls)  # a restarted node brings Vault back sealed
    assert all("--context konoha" in c for c in calls if c.startswith("kubectl"))
    Path(fakes["CALLS"]).unlink()
    other = _run(tree, {**fakes, "FAKE_UID": "cluster-2"})
    assert other.returncode == 0
    assert "the cluster is not the one the finished steps ran on: starting afresh" in other.stderr
    assert any("terraform/00-cluster apply" in c for c in _calls(fakes))


def test_dry_run_prints_every_step_with_its_conditions_as_the_readme_does(tree: Path, fakes: dict[str, str]) -> None:
    result = _run(tree, fakes, "--dry-run")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    readme = (tree / "README.md").read_text()
    rows = re.findall(r"^\| \d+ \| `([\w-]+)` \| (.+?) \| (.+?) \|$", readme, re.MULTILINE)
    assert [line.split(" ", 1)[0] for line in lines] == [name for name, _, _ in rows]
    for line, (name, entry, exit_condition) in zip(lines, rows, strict=True):
        assert line.startswith(f"{name} (") and f"waits for {entry}; makes Ready: {exit_condition} (timeout" in line
    assert not _calls(fakes)  # a dry run touches nothing


def test_teardown_deletes_the_cluster_and_the_local_state(tree: Path, fakes: dict[str, str]) -> None:
    Path(fakes["KONOHA_STATE"]).mkdir()
    result = _run(tree, fakes, "teardown")
    assert result.returncode == 0
    assert "minikube delete -p konoha" in _calls(fakes)
    assert not Path(fakes["KONOHA_STATE"]).exists()
