"""``dockergen lint``: policy checks on the resolved spec and the files it renders.

``rules``     the rule table (ID, severity, why, fix, check) and the checks themselves
``engine``    runs the rules per environment, locates each finding in the spec, applies
              the spec's ``lint:`` settings
``hadolint``  runs hadolint on the rendered Dockerfiles, when it is installed
``sarif``     SARIF 2.1.0 output for code scanning
"""
