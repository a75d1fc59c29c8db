"""The configuration audit on the PACS host: the PACS-CFG rules over what the product reads.

``host`` reads the machine (systemd units, package versions, users, file modes), ``orthanc`` and
``dcmqrscp`` judge each product's configuration, ``versions`` holds the known-fix table, and
``audit.run`` ties them into checks and findings in the probe's model.
"""
