"""A real nginx (Debian's package) run by a test: its own prefix, pid, logs and temp paths in a temp dir, listening
on a free loopback port. Locally a missing nginx skips with how to install it; under CI=true it fails."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DEPLOY_NGINX = REPO / "deploy" / "nginx" / "clicksend-mcp.conf"


def nginx_binary() -> str:
    found = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("nginx is required in CI: apt-get install -y nginx")
        pytest.skip("nginx is not installed (apt-get install -y nginx)")
    return found


def main_config(workdir: Path, http_include: Path) -> Path:
    """A top-level nginx.conf whose every path lives in `workdir`, including `http_include` in its http block."""
    for sub in ("client", "proxy", "fastcgi", "uwsgi", "scgi"):
        (workdir / sub).mkdir(parents=True, exist_ok=True)
    user = "user root;\n" if os.geteuid() == 0 else ""
    conf = workdir / "nginx.conf"
    conf.write_text(
        f"""{user}worker_processes 1;
pid {workdir}/nginx.pid;
error_log {workdir}/error.log warn;
daemon off;
events {{ worker_connections 1024; }}
http {{
    access_log {workdir}/access.log;
    client_body_temp_path {workdir}/client;
    proxy_temp_path {workdir}/proxy;
    fastcgi_temp_path {workdir}/fastcgi;
    uwsgi_temp_path {workdir}/uwsgi;
    scgi_temp_path {workdir}/scgi;
    include {http_include};
}}
"""
    )
    return conf


def render_deploy_config(workdir: Path, listen: int, replica_ports: list[int]) -> Path:
    """deploy/nginx/clicksend-mcp.conf with this test's listen port and replica ports (one line each, in order)."""
    text = DEPLOY_NGINX.read_text()
    text = text.replace("listen 8080;", f"listen 127.0.0.1:{listen};")
    for index, port in enumerate(replica_ports, start=1):
        text = text.replace(f"127.0.0.1:800{index}", f"127.0.0.1:{port}")
    assert not re.search(r"127\.0\.0\.1:800[1-3]\b", text), "a replica address was not replaced"
    out = workdir / "clicksend-mcp.conf"
    out.write_text(text)
    return out


def check_config(binary: str, conf: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [binary, "-t", "-p", str(conf.parent), "-c", str(conf)], capture_output=True, text=True, timeout=30
    )
