"""The probe engine: audit one DICOM endpoint the way an attacker would, and say what it found.

Every check lands in ``checks`` with a status (pass, fail, error, skipped) and a detail; every
failed check also yields a finding. A clean result needs a successful positive control (an
allowlisted AE accepted): a server that refuses everybody proves nothing, so it is inconclusive.

One module per check family, each with the rules it can raise: association.py (PACS-NET-*),
tls.py (PACS-TLS-*), web.py (PACS-WEB-*), position.py (reachability, PACS-FW-001); engine.py runs
them in order under the run's deadline; model.py holds the target, the result and the shared state.
"""

from __future__ import annotations

from .. import dicomnet, tlsprobe
from .association import RULES as NET_RULES
from .association import choose_controls, rogue_ae_title
from .engine import default_deadline, probe, probe_many
from .model import POSITIONS, ProbeInputError, Result, Target
from .position import RULES as FW_RULES
from .tls import RULES as TLS_RULES
from .web import RULES as WEB_RULES

# Why the probe cannot run here (pynetdicom, pydicom or cryptography missing), or None.
LIBRARY_IMPORT_ERROR = dicomnet.LIBRARY_IMPORT_ERROR or tlsprobe.LIBRARY_IMPORT_ERROR

__all__ = ["FW_RULES", "LIBRARY_IMPORT_ERROR", "NET_RULES", "POSITIONS", "TLS_RULES", "WEB_RULES",
           "ProbeInputError", "Result", "Target", "choose_controls", "default_deadline", "probe",
           "probe_many", "rogue_ae_title"]
