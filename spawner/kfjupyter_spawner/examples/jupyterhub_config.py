"""Demo JupyterHub: the example profiles, our spawner, a local cluster, two users.

Used by ``./dev run`` and the hub tests. Environment:
  KFJUPYTER_KUBECONFIG   kubeconfig of the cluster (``kfjupyter cluster kubeconfig``)
  KFJUPYTER_HUB_PORT     public port (default 8000); the hub API uses the next one
  KFJUPYTER_HUB_STATE    folder for the hub database and cookie secret (default: the cwd)
  KFJUPYTER_HUB_PASSWORD password of the demo users (default: "kfjupyter")
  KFJUPYTER_PROFILES     profiles file (default: profiles.yaml next to this file)
  KFJUPYTER_USER_NAMESPACES  "1": each user's servers run in their own namespace
  KFJUPYTER_HUB_CONNECT_IP   set for a cluster with a real container node (``kfjupyter cluster up
                         --runtime docker``): the node's bridge address, where the hub's API listens
                         so that servers in containers reach it; servers then start from their image
Users: ``ada`` (group gpu-users: sees GPU profiles) and ``bob`` (CPU only).
"""

import os
import sys
from pathlib import Path

from kfjupyter_spawner.spawner import configure

c = get_config()  # type: ignore[name-defined]  # noqa: F821 (provided by JupyterHub)

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
STATE = Path(os.environ.get("KFJUPYTER_HUB_STATE") or Path.cwd())
PORT = int(os.environ.get("KFJUPYTER_HUB_PORT", "8000"))

c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = PORT
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = PORT + 1
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{PORT + 2}"
PROXY = REPO / "tools" / "hub" / "node_modules" / ".bin" / "configurable-http-proxy"
if PROXY.exists():  # a source checkout: ./dev installs the proxy there
    c.ConfigurableHTTPProxy.command = [str(PROXY)]
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.ConfigurableHTTPProxy.pid_file = str(STATE / "jupyterhub-proxy.pid")

c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = os.environ.get("KFJUPYTER_HUB_PASSWORD", "kfjupyter")
c.Authenticator.allowed_users = {"ada", "bob"}
c.Authenticator.admin_users = {"ada"}
c.JupyterHub.load_groups = {"gpu-users": {"users": ["ada"]}}
c.JupyterHub.allow_named_servers = True

CONNECT_IP = os.environ.get("KFJUPYTER_HUB_CONNECT_IP")
if CONNECT_IP:
    # Servers are containers on the node's bridge: the hub's API listens on the bridge address
    # (the proxy on this host reaches it there too), and the image's own jupyterhub-singleuser runs.
    c.JupyterHub.hub_ip = CONNECT_IP
    command: dict[str, object] = {"cmd": ["jupyterhub-singleuser"], "args": []}
else:
    # The process kubelet runs the server in this environment: start it from this venv, as root here.
    # HOME is the user's volume, as the notebook image sets it, so each user's runs stay in their
    # own home (a process has no image to take HOME from).
    singleuser = Path(sys.executable).with_name("jupyterhub-singleuser")
    command = {
        "cmd": [str(singleuser)],
        "args": ["--allow-root", "--ServerApp.root_dir=/home/jovyan"],
        "environment": {"HOME": "/home/jovyan"},
    }
configure(
    c,
    profiles_file=os.environ.get("KFJUPYTER_PROFILES") or str(HERE / "profiles.yaml"),
    kubeconfig=os.environ["KFJUPYTER_KUBECONFIG"],
    namespace="default",
    user_namespaces=os.environ.get("KFJUPYTER_USER_NAMESPACES") == "1",
    start_timeout=120,
    http_timeout=60,
    **command,
)
