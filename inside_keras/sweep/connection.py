"""Connecting a sweep's driver to Ray: a Ray of its own on this machine, or a cluster.

`connect_ray(address, source, runtime_env, verbose)` calls `ray.init` and turns a
failed connection into an `InputError` that says what to set.

Token authentication (Ray >= 2.59): `ray start --head` turns it on when the head
machine holds a token (`~/.ray/auth_token`, written by `ray get-auth-token --generate`
or by any earlier local `ray.init()`; or `RAY_AUTH_TOKEN` / `RAY_AUTH_TOKEN_PATH`),
unless `RAY_AUTH_MODE=disabled`. `ray.init` sends this machine's token to a cluster
it finds itself (`address="auto"`) but not to an address it is given, so
`--address HOST:PORT` used to fail against such a head with "Failed to connect to Ray
cluster". A cluster at an address of this machine is the one `auto` would find, so it
gets the same treatment here: with `RAY_AUTH_MODE` unset and a token on this machine,
the driver uses token authentication. A cluster elsewhere needs `RAY_AUTH_MODE=token`
and its own token (`RAY_AUTH_TOKEN`, the output of `ray get-auth-token` on its head):
this machine's token is not sent to other hosts.

Ray's worker processes on every node take the token from their own node (the
environment or token file of its `ray start`); the sweep's `runtime_env` carries only
the Keras and thread settings, never the token.
"""

import logging
import os
import socket

from inside_keras.errors import InputError


def ray_address(address):
    """The address `ray.init` is given and where it came from: `address` (the option),
    else `RAY_ADDRESS`, else `"local"` (a new local Ray: `ray.init()` without an address
    would attach to any cluster recorded on the machine, even one that has stopped).

    Returns:
        `(address, source)`, source `"--address"`, `"RAY_ADDRESS"` or None (`"local"`).
    """
    if address:
        return address, "--address"
    if os.environ.get("RAY_ADDRESS"):
        return os.environ["RAY_ADDRESS"], "RAY_ADDRESS"
    return "local", None


def on_this_machine(host):
    """Whether `host` (a name or an IP address) is an address of this machine: a
    socket can be bound to it."""
    try:
        addresses = socket.getaddrinfo(host, None, type=socket.SOCK_DGRAM)
    except (OSError, UnicodeError):
        return False
    for family, kind, _, _, address in addresses:
        with socket.socket(family, kind) as probe:
            try:
                probe.bind((address[0], 0))
            except OSError:
                continue
            return True
    return False


def check_answers(address, source):
    """Raise InputError at once if nothing accepts a connection at `address`
    (`HOST:PORT`), where `ray.init` would retry for many minutes."""
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=10):
            pass
    except (OSError, ValueError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise InputError(
            f"nothing answers at {address} ({reason}); give the head's address and the "
            "port `ray start --head` printed (default 6379)",
            source,
        ) from None


def use_this_machines_token(address):
    """Turn token authentication on for this process as `ray.init(address="auto")` would,
    if `address` (`HOST:PORT`) is on this machine, `RAY_AUTH_MODE` is unset and this
    machine holds a Ray token; see the module docstring.

    Returns:
        Whether token authentication was turned on.
    """
    if "RAY_AUTH_MODE" in os.environ:
        return False
    if not on_this_machine(address.rpartition(":")[0].strip("[]")):
        return False
    try:
        from ray._private.authentication.authentication_token_setup import (
            maybe_enable_token_auth_if_token_available as enable,
        )
    except ImportError:  # Ray < 2.59 turns token authentication on only by RAY_AUTH_MODE
        return False
    # Ray's warning would say it turned authentication on "for this Ray cluster".
    ray_logger = logging.getLogger(enable.__module__)
    level = ray_logger.level
    ray_logger.setLevel(logging.ERROR)
    try:
        return enable(warn_if_disabled=False)
    finally:
        ray_logger.setLevel(level)


def authentication_hint():
    """What to set when connecting to a cluster failed, given this process's
    `RAY_AUTH_MODE`."""
    token = "RAY_AUTH_TOKEN to the output of `ray get-auth-token` on the head node"
    if os.environ.get("RAY_AUTH_MODE", "").lower() == "token":
        return f"token authentication is on here (RAY_AUTH_MODE=token): set {token}"
    return (
        "if the cluster uses token authentication (Ray's default for `ray start --head` "
        "where a token exists), set RAY_AUTH_MODE=token and " + token
    )


def connect_ray(address, source, runtime_env, verbose):
    """`ray.init` for a sweep's driver.

    Args:
        address: `"local"` (start a Ray of its own) or a cluster address (`auto`,
            `HOST:PORT`, `ray://HOST:PORT`).
        source: where `address` came from (see `ray_address`), for the error message.
        runtime_env: the job's runtime environment (every worker's).
        verbose: 0 quiet; 1 also says when a local Ray starts or this machine's token
            is used; 2 also forwards the workers' output and Ray's info logs.

    Raises:
        InputError: nothing answers at the address, or the cluster refused this driver.
    """
    import ray

    if address == "local":
        if verbose:
            print(
                "starting a local Ray for this sweep (--address auto uses the cluster "
                "running on this machine; --address HOST:PORT another)",
                flush=True,
            )
    elif "://" not in address and ":" in address:  # HOST:PORT of a cluster's head
        check_answers(address, source)
        if use_this_machines_token(address) and verbose:
            print(f"connecting to {address} with this machine's Ray token", flush=True)
    refused = (ConnectionError, getattr(ray.exceptions, "AuthenticationError", ConnectionError))
    try:
        ray.init(
            address=address,
            runtime_env=runtime_env,
            include_dashboard=False,
            log_to_driver=verbose > 1,
            logging_level=logging.INFO if verbose > 1 else logging.WARNING,
        )
    except refused as error:
        reason = getattr(error, "message", None) or str(error).strip().splitlines()[0]
        raise InputError(
            f"cannot connect to a Ray cluster at {address}: {reason.rstrip('.')}; "
            f"{authentication_hint()}",
            source,
        ) from None
