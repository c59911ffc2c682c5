"""Demo and test tooling: the sample server, the page renderer, synthetic reports.

Production code (flows' pipeline, sources, warehouse, expectations, transforms) never
imports this package; the CLI starts the demo server and passes its base URL in
(docs/ARCHITECTURE.md, tests/test_architecture.py).
"""
