"""Ray clusters started the way users start them: `ray start` head and worker nodes.

Every node runs from its own short temporary folder (`--temp-dir`, and `RAY_TMPDIR`
for all processes the tests start, so nothing is written to or read from /tmp/ray,
where other Ray sessions record themselves), on free ports (no default port such as
6379, 8265 or 52365 that another Ray on the machine may hold), with token
authentication on as Ray turns it on by default: the head's home holds a token
(`~/.ray/auth_token`), so `ray start --head` enables it; a worker joins with
`RAY_AUTH_MODE=token` and `RAY_AUTH_TOKEN` set to `ray get-auth-token`'s output, as
Ray's documentation says. Each `ray start` runs in a session of its own; `stop` kills
those sessions' processes (never `ray stop`, which stops every Ray on the machine).
"""

import contextlib
import importlib.util
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: The `ray` command beside this Python.
RAY = str(Path(sys.executable).parent / "ray")
#: Variables of the test's environment that would point a node or a driver elsewhere,
#: or give a node GPUs other than those it declares.
FOREIGN = (
    "RAY_ADDRESS",
    "RAY_AUTH_MODE",
    "RAY_AUTH_TOKEN",
    "RAY_AUTH_TOKEN_PATH",
    "CUDA_VISIBLE_DEVICES",
)


def free_ports(count):
    """`count` distinct TCP ports free on 127.0.0.1 now."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]


def session_processes(session):
    """Pids of the live (not zombie) processes of a session."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                zombie = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
                if os.getsid(int(entry.name)) == session and not zombie:
                    pids.append(int(entry.name))
            except (ProcessLookupError, FileNotFoundError):
                pass
    return pids


def kill_session(session, timeout=30):
    """SIGKILL every process of a session (Ray's workers have their own process groups)."""
    deadline = time.monotonic() + timeout
    while (pids := session_processes(session)) and time.monotonic() < deadline:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.5)
    assert not session_processes(session)


class RayStartCluster:
    """A head and worker nodes started with `ray start` on this machine.

    Ray gives each node this machine's own address (it replaces 127.0.0.1 by the
    address other machines would reach); everything stays on this machine, and the
    tests connect through 127.0.0.1.

    Args:
        environment: variables for every node (beside the test's own environment).
    """

    def __init__(self, environment=None):
        self.root = Path(tempfile.mkdtemp(prefix="ik-ray-"))  # short: Ray's socket paths
        self.environment = dict(environment or {})
        self.head_home = self.root / "head-home"  # the head machine's home, with its token
        (self.head_home / ".ray").mkdir(parents=True)
        (self.head_home / ".ray" / "auth_token").write_text(secrets.token_hex(32))
        self.sessions = []
        self.port = None

    @property
    def address(self):
        """The head's address as a user types it on this machine."""
        return f"127.0.0.1:{self.port}"

    def env(self, home, **variables):
        """The test's environment for a process run as the user of `home`."""
        env = {k: v for k, v in os.environ.items() if k not in FOREIGN}
        return {**env, "HOME": str(home), "RAY_TMPDIR": str(self.root / "tmp"), **variables}

    def _start(self, name, arguments, env):
        temp_dir = self.root / name
        ports = free_ports(6)
        options = [
            *("--temp-dir", str(temp_dir), "--object-store-memory", str(150 * 2**20)),
            *("--dashboard-agent-listen-port", str(ports[0])),
            *("--dashboard-agent-grpc-port", str(ports[1])),
            *("--runtime-env-agent-port", str(ports[2])),
            *("--metrics-export-port", str(ports[3])),
            *("--node-manager-port", str(ports[4]), "--object-manager-port", str(ports[5])),
            "--disable-usage-stats",
        ]
        started = subprocess.Popen(
            [RAY, "start", *arguments, *options],
            env={**env, **self.environment},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.sessions.append(started.pid)
        output, _ = started.communicate(timeout=180)
        assert started.returncode == 0, output[-3000:]

    def start_head(self, num_cpus, num_gpus=0):
        """`ray start --head` on free ports, token authentication on by default."""
        self.port, dashboard, client = free_ports(3)
        arguments = [
            *("--head", "--node-ip-address", "127.0.0.1", "--port", str(self.port)),
            *("--num-cpus", str(num_cpus), "--num-gpus", str(num_gpus)),
            *("--include-dashboard", "false", "--dashboard-port", str(dashboard)),
        ]
        if importlib.util.find_spec("grpc") is not None:  # Ray Client serves on 10001
            arguments += ["--ray-client-server-port", str(client)]
        self._start("head", arguments, self.env(self.head_home))

    def auth_token(self):
        """The head's token, as `ray get-auth-token` prints it on the head."""
        shown = subprocess.run(
            [RAY, "get-auth-token"],
            env=self.env(self.head_home),
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return shown.stdout.strip()

    def add_worker(self, num_cpus):
        """`ray start --address` of a worker node with no token file of its own: the
        token comes from the environment, as on another machine."""
        home = self.root / "worker-home"
        home.mkdir(exist_ok=True)
        env = self.env(home, RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=self.auth_token())
        self._start("worker", ["--address", self.address, "--num-cpus", str(num_cpus)], env)

    def stop(self):
        """Kill every process the `ray start`s began, and remove the folder."""
        try:
            for session in self.sessions:
                kill_session(session)
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
