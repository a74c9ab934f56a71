"""Serve ptexplore to a classroom: ``python -m ptexplore.serve --host 192.168.1.20``.

The shipped ``.streamlit/config.toml`` listens on 127.0.0.1 only and accepts only
``localhost``/``127.0.0.1`` as hosts. Measured with streamlit 1.67, for overriding it:

- ``--server.allowedHosts '["192.168.1.20"]'`` (a JSON list on the command line) does not
  parse as a list: the server then refuses every host, 127.0.0.1 included;
- a config file in another working folder does not help either: the ``.streamlit`` folder
  next to ``app.py`` (script level) overrides the working folder's (project level);
- repeating the flag works: ``--server.allowedHosts A --server.allowedHosts B``.

So this builds that command line, with the address and port too, and runs it.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import re
import sys

from ptexplore.errors import InputError
from ptexplore.pages import ROOT

LOCAL_HOSTS = ("localhost", "127.0.0.1")
_HOSTNAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9-]{1,63})*$")


def check_host(host: str) -> str:
    """A host name or IP address learners type in their browser (no scheme, no port)."""
    host = host.strip()
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    if not _HOSTNAME.match(host):
        raise InputError(
            f"{host!r} is not a host name or IP address.",
            fix="Give the address learners type, e.g. 192.168.1.20 or teacher-laptop.local.",
        )
    return host


def classroom_command(hosts: list[str], *, address: str = "0.0.0.0", port: int = 8501) -> list[str]:
    """``streamlit run app.py`` with the address, port and allowed hosts of a classroom."""
    checked = [check_host(h) for h in hosts]
    if not checked:
        raise InputError("Name at least one host.", fix="e.g. --host 192.168.1.20")
    if not 1 <= port <= 65535:
        raise InputError(
            f"Port {port} is not between 1 and 65535.", fix="Pick a free port, e.g. 8501."
        )
    allowed = [*LOCAL_HOSTS, *[h for h in checked if h not in LOCAL_HOSTS]]
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
        "--server.address", address,
        "--server.port", str(port),
        "--browser.serverAddress", checked[0],
    ]  # fmt: skip
    for h in allowed:
        cmd += ["--server.allowedHosts", h]
    return cmd


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ptexplore.serve", description=__doc__)
    ap.add_argument("--host", action="append", required=True, help="address learners type")
    ap.add_argument("--address", default="0.0.0.0", help="interface to listen on")
    ap.add_argument("--port", type=int, default=8501)
    args = ap.parse_args(argv)
    try:
        cmd = classroom_command(args.host, address=args.address, port=args.port)
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"learners open http://{check_host(args.host[0])}:{args.port}", flush=True)
    os.chdir(ROOT)
    # become the server (no child left behind when this process is stopped)
    os.execv(cmd[0], cmd)


if __name__ == "__main__":
    raise SystemExit(main())
