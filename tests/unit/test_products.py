"""The product table the audit reads on a host matches what the roles set up by default."""

from pathlib import Path

import yaml

from pacsguard.products import host_services

ROLES = Path(__file__).resolve().parents[2] / "roles"


def _defaults(role: str) -> dict:
    return yaml.safe_load((ROLES / role / "defaults" / "main.yml").read_text())


def test_host_services_are_the_roles_defaults():
    orthanc, dcmqrscp = _defaults("pacs_orthanc"), _defaults("pacs_dcmqrscp")
    front, tls = _defaults("pacs_tls_front"), _defaults("pacs_tls")
    web = _defaults("pacs_web_front")
    services = host_services()
    assert services["orthanc"] == [
        {"service": orthanc["pacs_orthanc_service"], "paths": [
            orthanc["pacs_orthanc_config_dir"] + "/*.[jJ][sS][oO][nN]",
            orthanc["pacs_orthanc_config_dir"] + "/.*.[jJ][sS][oO][nN]", orthanc["pacs_orthanc_openssl_conf"],
            tls["pacs_tls_dir"]]},
        {"service": web["pacs_web_front_service"],
         "paths": [web["pacs_web_front_config"], web["pacs_web_front_dir"]]}]
    assert services["dcmqrscp"] == [
        {"service": dcmqrscp["pacs_dcmqrscp_service"],
         "paths": [dcmqrscp["pacs_dcmqrscp_config"], dcmqrscp["pacs_dcmqrscp_openssl_conf"],
                   dcmqrscp["pacs_dcmqrscp_log_config"]]},
        {"service": front["pacs_tls_front_service"],
         "paths": [front["pacs_tls_front_config"], tls["pacs_tls_dir"]]}]
