"""stunnel's configuration read back as stunnel reads it, to prove a rendered front is the one meant.

stunnel reads ``key = value`` lines, ``[service]`` headers that start a new service, and comments
that start with ';' or '#'. A line break inside an inventory value would start a service or an
option of its own (``exec`` runs a program for every client); reading the rendered text back and
comparing it with the routes meant catches that before the file reaches a host.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_SECTION = re.compile(r"^\[(?P<name>[^\]]*)\]$")
_OPTION = re.compile(r"^(?P<key>[A-Za-z][A-Za-z0-9_]*)\s*=\s*(?P<value>.*)$")
# Per-service options the front writes; any other one in a service (exec, connect to elsewhere,
# a client mode) was not meant.
SERVICE_OPTIONS = frozenset({"accept", "connect", "local"})
# Options that must never appear anywhere in the front's file.
FORBIDDEN_OPTIONS = frozenset({"exec", "execArgs", "pty", "client", "include", "engine"})


class StunnelConfigError(ValueError):
    """The text is not a stunnel configuration or not the one meant; the message says how."""


@dataclass
class StunnelConfig:
    """Global options and services, each a list of (key, value) in file order."""

    options: list[tuple[str, str]] = field(default_factory=list)
    services: dict[str, list[tuple[str, str]]] = field(default_factory=dict)


def parse(text: str) -> StunnelConfig:
    """Read the file as stunnel does (comments and blank lines skipped, values stripped)."""
    config = StunnelConfig()
    current = config.options
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in ";#":
            continue
        section = _SECTION.match(line)
        if section:
            name = section.group("name").strip()
            if name in config.services:
                raise StunnelConfigError(f"line {number}: service [{name}] defined twice")
            current = config.services[name] = []
            continue
        option = _OPTION.match(line)
        if not option:
            raise StunnelConfigError(f"line {number}: neither an option nor a [service]")
        current.append((option.group("key"), option.group("value").strip()))
    return config


def verify(text: str, services: dict[str, dict[str, str]], options: dict[str, str]) -> None:
    """Refuse ``text`` unless it holds exactly ``services`` (name to accept/connect/local) and the
    global ``options`` with the values meant, and no forbidden option anywhere."""
    config = parse(text)
    everywhere = config.options + [item for items in config.services.values() for item in items]
    forbidden = sorted({key for key, _value in everywhere if key in FORBIDDEN_OPTIONS})
    if forbidden:
        raise StunnelConfigError(f"read back, the file sets {', '.join(forbidden)}")
    if set(config.services) != set(services):
        extra = sorted(set(config.services) - set(services))
        missing = sorted(set(services) - set(config.services))
        raise StunnelConfigError(f"read back, services differ: unexpected {extra}, missing {missing}")
    for name, items in config.services.items():
        got = dict(items)
        if len(got) != len(items) or set(got) - SERVICE_OPTIONS or got != services[name]:
            raise StunnelConfigError(f"read back, service [{name}] is {items}, not {services[name]}")
    glob = dict(config.options)
    wrong = {key: glob.get(key) for key, value in options.items() if glob.get(key) != str(value)}
    if wrong:
        raise StunnelConfigError(f"read back, global options differ from those meant: {wrong}")


def front_services(routes: list[dict[str, Any]], backend_port: int) -> dict[str, dict[str, str]]:
    """The services a TLS front must hold: one per route, named after its peer."""
    return {f"peer-{route['name']}": {"accept": f"0.0.0.0:{route['front_port']}",
                                      "connect": f"127.0.0.1:{backend_port}",
                                      "local": str(route["source"])}
            for route in routes}
