"""Former name of the ``python`` family: the calculator named ``module:Class`` as checkpoint.

Kept so registries written before ``family: python`` keep working; new entries say
``family: python`` with ``factory: package.module:callable`` (:mod:`mlpeg.models.python`),
which builds, checks and caches the calculator the same way.
"""

from __future__ import annotations

from mlpeg.models.python import ACCEPTS, availability, make_calculator, preflight, validate

__all__ = ["ACCEPTS", "availability", "make_calculator", "preflight", "validate"]
