"""A real OpenID Connect provider for the login tests: ``oidc-provider-mock`` on 127.0.0.1.

The package (https://github.com/geigerzaehler/oidc-provider-mock) is a complete provider
built on Authlib: discovery, authorization code flow, signed ID tokens, userinfo, and an
end-session endpoint. Its authorization page has a button per predefined user and a Deny
button, which sends ``error=access_denied`` back to the client's callback. Any client id
and secret are accepted, so no registration step is needed.

It runs as its own process (``python -m oidc_provider_mock``, uvicorn), like the other
servers of the tests; ``auth_secrets`` writes the app's ``[auth]`` section for it.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from tests.support.servers import Server, run_server

DISCOVERY = "/.well-known/openid-configuration"
CLIENT_ID = "streaming-chat-tests"


@contextlib.contextmanager
def oidc_provider(
    workdir: Path, users: Sequence[Mapping[str, str]], env: Mapping[str, str]
) -> Iterator[Server]:
    """The provider on a free port, with ``users`` (claims with a ``sub``) one click away."""
    workdir.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "oidc_provider_mock", "--host", "127.0.0.1", "--port", "{port}"]
    for claims in users:
        # run_server fills in {port} with str.format: the JSON's braces are doubled for it.
        cmd += ["--user-claims", json.dumps(dict(claims)).replace("{", "{{").replace("}", "}}")]
    with run_server(cmd, cwd=workdir, env=dict(env), health_path=DISCOVERY) as server:
        yield server


def auth_secrets(provider: Server) -> str:
    """The ``[auth]`` section of ``.streamlit/secrets.toml`` for an app served on 127.0.0.1.

    Streamlit fills in ``{port}`` in ``redirect_uri`` with the port it listens on.
    """
    values = {
        "redirect_uri": "http://127.0.0.1:{port}/oauth2callback",
        "cookie_secret": secrets.token_urlsafe(32),
        "client_id": CLIENT_ID,
        "client_secret": secrets.token_urlsafe(16),
        "server_metadata_url": provider.url + DISCOVERY,
    }
    return "[auth]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in values.items())
