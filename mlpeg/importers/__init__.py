"""Importers: bring results computed elsewhere (ML-PEG calc outputs) into the warehouse.

An importer only writes landing parts; ``mlpeg.warehouse.ingest`` validates and loads them
like any part, so imported results obey the same rules (units, states, idempotence).
"""
