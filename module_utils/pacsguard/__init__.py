"""pacsguard core: policy validation, the DICOM probe engine, findings and report writers.

Importable without Ansible (tests put ``module_utils`` on ``sys.path``); Ansible modules import it
as ``ansible.module_utils.pacsguard``. Modules inside the package import each other relatively so
both ways work.
"""

__version__ = "0.1.0"
