"""What makes a password of a PACS web user weak: the policy refuses one, the host audit finds one."""

from __future__ import annotations

from .products import default_web_credentials

# Passwords an attacker tries first; the products' documented samples included.
WEAK_PASSWORDS = frozenset({"", "admin", "password", "changeme", "secret", "bobpassword", "123456",
                            "12345678"}
                           | {password.lower() for _user, password in default_web_credentials()})
MIN_PASSWORD_LENGTH = 12
