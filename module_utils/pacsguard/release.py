"""The release of pacsguard, written once: the reports carry it and the collection's build takes it
(galaxy.yml has no version of its own). A module of its own, because Ansible's module packer reads
``from . import NAME`` as a module to ship, not as a name of the package."""

VERSION = "0.9.0"
