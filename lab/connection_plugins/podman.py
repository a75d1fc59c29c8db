"""The test hosts' connection: into a running podman container, with modules pipelined over stdin as
they are over ssh.

The lab's hosts (make demo), the release matrix's and Molecule's (whose podman driver names the
connection `podman` in the inventory it writes) use it: with this directory on
ANSIBLE_CONNECTION_PLUGINS, the short name `podman` finds this plugin first. Each module runs in one
process (the module on stdin), where the collection's plugin, which gives a command no stdin, makes
four to five podman calls per module (temporary directory, copy, run, clean up). Files go over the
same stdin (`cat`), so nothing mounts the container's filesystem.

The process enters the container's namespaces with `nsenter` (util-linux), its root and working
directory, with the environment of the container's init (what `podman exec` gives, less podman's
container_uuid): about 5 ms, where each `podman exec` costs about 190 ms here. The container's init
PID is asked of podman once and kept in a small file under /run/pacsguard-lab, checked on every use
(the process must still be in that container's cgroup). The command runs as root with every
capability, as root over ssh does on a real host (a container's exec gets podman's reduced set).
Without nsenter, or when the container is not running, `podman exec -i` runs the command (and says
what is wrong).
"""

from __future__ import annotations

import os
import shlex
import shutil
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
  enter:
    description: Enter the container's namespaces with nsenter (podman exec when false or impossible).
    default: true
    type: boolean
    env:
      - name: PACSGUARD_PODMAN_ENTER
    vars:
      - name: ansible_podman_enter
"""

# where each container's init PID is kept between tasks (one small file per container)
PIDS = "/run/pacsguard-lab/pids"


class Connection(ConnectionBase):
    """One process per command in the container: nsenter, or podman exec -i."""

    transport = "podman"
    has_pipelining = True

    def _connect(self):
        self._connected = True
        return self

    def _init_pid(self, name: str) -> int | None:
        """The PID of the container's init, from the file kept for it when it is still that
        container's (its cgroup names the container's ID), else from podman; None when it is not
        running."""
        path = os.path.join(PIDS, name.replace("/", "_"))
        try:
            with open(path, encoding="ascii") as kept:
                container_id, pid = kept.read().split()
            with open(f"/proc/{int(pid)}/cgroup", encoding="utf-8") as cgroup:
                if f"libpod-{container_id}" in cgroup.read():
                    return int(pid)
        except (OSError, ValueError):
            pass
        asked = subprocess.run([self.get_option("podman_executable"), "inspect", "--format",
                                "{{.Id}} {{.State.Pid}}", name], capture_output=True, text=True,
                               timeout=60, check=False)
        try:
            container_id, pid = asked.stdout.split()
        except ValueError:
            return None
        if asked.returncode or int(pid) <= 0:
            return None
        os.makedirs(PIDS, exist_ok=True)
        with open(f"{path}.{os.getpid()}", "w", encoding="ascii") as kept:
            kept.write(f"{container_id} {pid}\n")
        os.replace(f"{path}.{os.getpid()}", path)
        return int(pid)

    def _entered(self, argv: list[str]) -> list[str] | None:
        """argv run inside the container through nsenter, with the container init's environment;
        None when that cannot be done (podman exec then runs it)."""
        nsenter = shutil.which("nsenter") if self.get_option("enter") else None
        pid = self._init_pid(self.get_option("remote_addr")) if nsenter else None
        if pid is None:
            return None
        try:
            with open(f"/proc/{pid}/environ", "rb") as environ:
                variables = [item for item in environ.read().split(b"\0")
                             if item and not item.startswith(b"container_uuid=")]
        except OSError:
            return None
        return [nsenter, "--target", str(pid), "--all", "--root", "--wd", "--", "env", "-i",
                *(to_text(item, errors="surrogate_or_strict") for item in variables), *argv]

    def _run(self, argv: list[str], in_data: bytes | None = None,
             enter: bool = True) -> tuple[int, bytes, bytes]:
        command = (self._entered(argv) if enter else None) or [
            self.get_option("podman_executable"), "exec", "-i", self.get_option("remote_addr"), *argv]
        try:
            done = subprocess.run(command, input=in_data or b"", capture_output=True,
                                  timeout=self.get_option("exec_timeout"), check=False)
        except subprocess.TimeoutExpired as error:
            raise AnsibleConnectionFailure(f"{command[0]} gave no end within {error.timeout} s: {argv[:3]}") \
                from error
        except OSError as error:
            raise AnsibleConnectionFailure(f"{command[0]} could not be run: {error}") from error
        if command[0] != self.get_option("podman_executable") and done.returncode \
                and done.stderr.startswith(b"nsenter: "):
            # nsenter could not enter (the container went away in between): podman says why
            return self._run(argv, in_data, enter=False)
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
