"""A sweep on a cluster started with `ray start`, as users start one: a head and a worker
node on this machine with token authentication on (Ray's default where the head holds a
token), the sweep run as `inside-keras sweep --address 127.0.0.1:PORT` on the head."""

import csv
import subprocess

import pytest

from tests.ray.nodes import RayStartCluster, free_ports
from tests.runs import CLI
from tests.sweep.specs import write_spec


@pytest.fixture(scope="module")
def two_nodes():
    # The nodes' own KERAS_BACKEND names no backend: trials train only if the sweep's
    # runtime_env reached the workers of both nodes.
    cluster = RayStartCluster({"KERAS_BACKEND": "unset-on-the-nodes"})
    try:
        cluster.start_head(num_cpus=1)
        cluster.add_worker(num_cpus=1)
        yield cluster
    finally:
        cluster.stop()


def _sweep(spec, out, cluster, env):
    command = [*CLI, "sweep", str(spec), "--out", str(out), "--address", cluster.address]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)


def test_sweep_with_address_on_a_head_and_worker_with_token_authentication(
    tmp_path, data, two_nodes
):
    spec = write_spec(tmp_path, data, {"search": {"num_samples": 2}})  # 2 x 2 placements
    out = tmp_path / "out"
    # On the head, as its user: the token is in ~/.ray/auth_token, no RAY_AUTH_* set.
    result = _sweep(spec, out, two_nodes, two_nodes.env(two_nodes.head_home))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "4 trials" in result.stdout and "starting a local Ray" not in result.stdout
    assert f"connecting to {two_nodes.address} with this machine's Ray token" in result.stdout
    with open(out / "trials.csv", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) == 4 and all(row["status"] == "TERMINATED" for row in rows)
    nodes = {node for row in rows for node in row["node_ids"].split()}
    assert len(nodes) == 2  # one CPU on each node: the trials ran on both
    assert all(row["cuda_visible_devices"] == "" for row in rows)  # no GPUs asked for


def test_without_the_token_the_error_says_what_to_set(tmp_path, data, two_nodes):
    spec = write_spec(tmp_path, data)
    home = tmp_path / "home"  # a user without a Ray token
    home.mkdir()
    prefix = (
        "inside-keras sweep: error: --address: cannot connect to a Ray cluster at "
        f"{two_nodes.address}: "
    )
    result = _sweep(spec, tmp_path / "out", two_nodes, two_nodes.env(home))
    assert result.returncode == 2, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    error = result.stderr.strip().splitlines()[-1]  # after Ray's own log lines
    assert error.startswith(prefix), error
    assert error.endswith(
        "; if the cluster uses token authentication (Ray's default for `ray start --head` "
        "where a token exists), set RAY_AUTH_MODE=token and RAY_AUTH_TOKEN to the output of "
        "`ray get-auth-token` on the head node"
    ), error

    env = two_nodes.env(home, RAY_AUTH_MODE="token")  # token authentication, no token
    result = _sweep(spec, tmp_path / "out2", two_nodes, env)
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr[-3000:]
    assert result.stderr.startswith(prefix)
    assert result.stderr.rstrip().endswith(
        "token authentication is on here (RAY_AUTH_MODE=token): set RAY_AUTH_TOKEN to the "
        "output of `ray get-auth-token` on the head node"
    ), result.stderr


def test_an_address_where_nothing_answers_is_refused_at_once(tmp_path, data):
    port = free_ports(1)[0]  # nothing listens there (Ray would retry for minutes)
    command = [*CLI, "sweep", str(write_spec(tmp_path, data)), "--out", str(tmp_path / "out")]
    result = subprocess.run(
        [*command, "--address", f"127.0.0.1:{port}"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr == (
        f"inside-keras sweep: error: --address: nothing answers at 127.0.0.1:{port} "
        "(Connection refused); give the head's address and the port `ray start --head` "
        "printed (default 6379)\n"
    )
