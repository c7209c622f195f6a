"""Results as a bundle: one model's landing parts, its registry entry and provenance, checked.

A bundle is an uncompressed tar (Parquet parts are compressed already) holding

- ``manifest.json``: format and version, the model, its benchmarks, when and where it was
  written, and the name, size and sha256 of every other file (``mlpeg/schemas/
  bundle.schema.yml``);
- ``model.yml``: the model's registry entry;
- ``provenance.json``: the ``runs`` rows of the bundled runs in the warehouse that wrote it;
- ``parts/*.parquet``: the model's predictions parts, and the references and reaction
  stoichiometry parts of its benchmarks, byte for byte as they were ingested there.

:mod:`mlpeg.bundle.pack` writes one; :mod:`mlpeg.bundle.unpack` verifies every byte and
the schema before anything is loaded. The sha256 of the manifest identifies a bundle; the
checksums catch damage and edits, not a forger who rewrites the manifest too, so take
bundles from people you trust or compare that id with the sender's.
"""

from __future__ import annotations

from mlpeg.landing import BUNDLES_FOLDER

#: ``format`` and ``version`` of the manifest.
FORMAT = "mlpeg-bundle"
VERSION = 1
MANIFEST = "manifest.json"
MODEL_FILE = "model.yml"
PROVENANCE_FILE = "provenance.json"
PARTS_FOLDER = "parts"
#: Where ingest keeps a bundle's parts, inside the warehouse's landing folder.
LANDING_FOLDER = BUNDLES_FOLDER


def is_bundle_path(path) -> bool:
    """Return whether ``mlpeg ingest`` reads ``path`` as a bundle: a file, not a Parquet part."""
    return path.is_file() and path.suffix != ".parquet"
