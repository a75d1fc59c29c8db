"""pacsguard core: policy validation, the DICOM probe engine, findings and report writers.

Importable without Ansible (tests put ``module_utils`` on ``sys.path``). From a clone, the modules
import it as ``ansible.module_utils.pacsguard``; in the collection it is the collection's
``plugins/module_utils`` (tools/build_collection.py). Modules inside the package import each other
relatively so every way works.
"""
