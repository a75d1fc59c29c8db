"""The test hosts' connection: `podman exec`, with modules pipelined over stdin as they are over ssh.

The lab's hosts (make demo), the release matrix's and Molecule's (whose podman driver names the
connection `podman` in the inventory it writes) use it: with this directory on
ANSIBLE_CONNECTION_PLUGINS, the short name `podman` finds this plugin first. Each module
runs in one `podman exec -i` (the module on stdin), where the collection's plugin, which gives a
command no stdin, makes four to five podman calls per module (temporary directory, copy, run, clean
up). Files go over the same stdin (`cat`), so nothing mounts the container's filesystem.
"""

from __future__ import annotations

import shlex
import subprocess

from ansible.errors import AnsibleConnectionFailure, AnsibleError
from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible.plugins.connection import ConnectionBase

DOCUMENTATION = """
name: podman
short_description: podman exec into a running container, modules pipelined
description:
  - Runs commands in a local podman container with C(podman exec -i); modules and files go over stdin.
author: pacsguard
options:
  remote_addr:
    description: The container's name or ID.
    default: inventory_hostname
    vars:
      - name: inventory_hostname
      - name: ansible_host
  podman_executable:
    description: The podman program.
    default: podman
    vars:
      - name: ansible_podman_executable
  pipelining:
    description: Send modules over stdin (async tasks still copy the async wrapper and their module).
    default: true
    type: boolean
    vars:
      - name: ansible_pipelining
  exec_timeout:
    description: Seconds a single podman call may take.
    default: 900
    type: int
    vars:
      - name: ansible_podman_exec_timeout
"""


class Connection(ConnectionBase):
    """podman exec -i, one process per command."""

    transport = "podman"
    has_pipelining = True

    def _connect(self):
        self._connected = True
        return self

    def _run(self, argv: list[str], in_data: bytes | None = None) -> tuple[int, bytes, bytes]:
        command = [self.get_option("podman_executable"), "exec", "-i", self.get_option("remote_addr"), *argv]
        try:
            done = subprocess.run(command, input=in_data or b"", capture_output=True,
                                  timeout=self.get_option("exec_timeout"), check=False)
        except subprocess.TimeoutExpired as error:
            raise AnsibleConnectionFailure(f"podman exec gave no end within {error.timeout} s: {argv[:3]}") \
                from error
        except OSError as error:
            raise AnsibleConnectionFailure(f"podman could not be run: {error}") from error
        if done.returncode in (125, 126) and b"container" in done.stderr.lower():
            raise AnsibleConnectionFailure(to_text(done.stderr.strip()))
        return done.returncode, done.stdout, done.stderr

    def exec_command(self, cmd, in_data=None, sudoable=True):
        super().exec_command(cmd, in_data=in_data, sudoable=sudoable)
        return self._run(shlex.split(to_text(cmd, errors="surrogate_or_strict")), in_data)

    def put_file(self, in_path, out_path):
        super().put_file(in_path, out_path)
        with open(to_bytes(in_path, errors="surrogate_or_strict"), "rb") as source:
            data = source.read()
        rc, _, stderr = self._run(["sh", "-c", 'cat > "$1"', "put_file", out_path], data)
        if rc:
            raise AnsibleError(f"copying {in_path} to {out_path} failed: {to_text(stderr.strip())}")

    def fetch_file(self, in_path, out_path):
        super().fetch_file(in_path, out_path)
        rc, data, stderr = self._run(["cat", in_path])
        if rc:
            raise AnsibleError(f"fetching {in_path} failed: {to_text(stderr.strip())}")
        with open(to_bytes(out_path, errors="surrogate_or_strict"), "wb") as target:
            target.write(data)

    def close(self):
        self._connected = False
