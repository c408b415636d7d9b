"""The rules of the concurrent-infra policy pack, and the adapter that serves them.

Layout (one module per concern):

- :mod:`.props`: reading resource inputs (``UNKNOWN`` values, ``*List`` and ``*Patch`` kinds);
- :mod:`.rule`: what a resource rule and a stack rule are, and their config keys;
- :mod:`.rules`: the rules, pure functions over props: :mod:`.rules.rbac`,
  :mod:`.rules.namespaces`, :mod:`.rules.gke`, :mod:`.rules.tenancy`;
- :mod:`.pack`: the ``pulumi_policy`` adapter (the only module that imports it).

The engine runs ``python policy/`` (``policy/__main__.py``), which imports this package from its
own directory and ``concurrent_infra`` from the project's virtualenv, where it is installed
(``scripts/setup``); tests import it as ``policy.concurrent_infra_policy``.
"""

PACK_NAME = "concurrent-infra"
