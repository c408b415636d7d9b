"""The stack program of this project: stack config -> validated settings -> components -> outputs.

``__main__.py`` calls :func:`concurrent_infra.program.stack.main`. The parser
(:mod:`~concurrent_infra.program.config`) turns the raw stack config into the components'
validated settings, checked against the other shards' stack files when the stack is sharded
(:mod:`~concurrent_infra.program.shards`); :mod:`~concurrent_infra.program.stack` builds the
components from them and exports the outputs. The components themselves live in
:mod:`concurrent_infra.kube` and :mod:`concurrent_infra.gke` and know nothing of this layer.
"""
