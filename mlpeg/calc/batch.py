"""Single points of many structures in one forward pass, where the model family allows it.

MACE and Orb build one graph per structure and can evaluate a batch of graphs at once;
that is much faster than one structure at a time for small molecules, where the per-call
overhead dominates. :func:`batch_evaluator` looks through mlpeg's wrappers (D3 added with
``SumCalculator``, charge and spin with ``PreparedCalculator``) to the model underneath and
returns an evaluator for it, or None when the model has no batched path (then the runner
evaluates one structure at a time). A D3 correction is still computed per structure and
added to the batched model results.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator

from mlpeg.calc.tasks import TaskResult


class BatchEvaluator(Protocol):
    """Energies, forces and stresses of several structures from one model call."""

    def evaluate(
        self, structures: Sequence[Atoms], *, forces: bool, stress: bool
    ) -> list[TaskResult]:
        """Return one result per structure, in order."""
        ...


@dataclass
class _Prepared:
    """What ``PreparedCalculator`` does around a model call: charge/spin and dtype."""

    charge_spin: bool = False
    torch_dtype: str | None = None

    def structures(self, structures: Sequence[Atoms]) -> list[Atoms]:
        if not self.charge_spin:
            return list(structures)
        from mlpeg.models.prepare import with_charge_and_spin

        return [with_charge_and_spin(atoms) for atoms in structures]

    def dtype(self) -> Any:
        from mlpeg.models.prepare import torch_default_dtype

        return torch_default_dtype(self.torch_dtype)


class MaceBatch:
    """Batched MACE forward pass, reusing the settings of a built ``MACECalculator``."""

    def __init__(self, calc: Any, prepared: _Prepared):
        self.calc = calc
        self.prepared = prepared

    @staticmethod
    def supports(calc: Any) -> bool:
        """Return whether ``calc`` is a plain energy MACE calculator without padding."""
        module = sys.modules.get("mace.calculators")  # a MACE calculator imported it
        return (
            module is not None
            and isinstance(calc, module.MACECalculator)
            and calc.model_type == "MACE"
            and not getattr(calc, "use_compile", False)
            and not getattr(calc, "pad_num_atoms", 0)
            and not getattr(calc, "pad_num_edges", 0)
        )

    def _graphs(self, structures: Sequence[Atoms]) -> Any:
        from mace import data as mace_data
        from mace.tools import torch_geometric, torch_tools

        calc = self.calc
        arrays_keys = dict(calc.arrays_keys)
        arrays_keys[calc.charges_key] = "charges"
        keyspec = mace_data.KeySpecification(info_keys=calc.info_keys, arrays_keys=arrays_keys)
        graphs = []
        with torch_tools.default_dtype(calc.default_dtype):
            for atoms in structures:
                config = mace_data.config_from_atoms(
                    atoms, key_specification=keyspec, head_name=calc.head
                )
                graphs.append(
                    mace_data.AtomicData.from_config(
                        config,
                        z_table=calc.z_table,
                        cutoff=calc.r_max,
                        heads=calc.available_heads,
                    )
                )
        return torch_geometric.Batch.from_data_list(graphs).to(calc.device)

    def evaluate(
        self, structures: Sequence[Atoms], *, forces: bool, stress: bool
    ) -> list[TaskResult]:
        """Evaluate every structure in one forward pass per committee member."""
        import torch

        calc = self.calc
        structures = self.prepared.structures(structures)
        with self.prepared.dtype():
            batch = self._graphs(structures)
            energies, all_forces, stresses = [], [], []
            for model in calc.models:
                clone = batch.clone()
                model_dtype = next(model.parameters()).dtype
                for key in clone.keys:
                    value = clone[key]
                    if torch.is_tensor(value) and torch.is_floating_point(value):
                        clone[key] = value.to(dtype=model_dtype)
                out = model(clone.to_dict(), compute_stress=stress, training=False)
                energies.append(out["energy"].detach())
                all_forces.append(out["forces"].detach())
                if stress:
                    stresses.append(out["stress"].detach())
        to_ev = calc.energy_units_to_eV
        per_length = to_ev / calc.length_units_to_A
        per_volume = to_ev / calc.length_units_to_A**3
        energy = (torch.stack(energies).mean(0) * to_ev).cpu().double().numpy()
        force = (torch.stack(all_forces).mean(0)).cpu().double().numpy() * per_length
        sigma = (
            (torch.stack(stresses).mean(0)).cpu().double().numpy() * per_volume if stress else None
        )
        bounds = batch["ptr"].cpu().numpy()
        results = []
        for index in range(len(structures)):
            result = TaskResult(energy=float(energy[index]))
            if forces:
                result.forces = force[bounds[index] : bounds[index + 1]].copy()
            if sigma is not None:
                result.stress = _voigt(sigma[index])
            results.append(result)
        return results


class OrbBatch:
    """Batched Orb forward pass, reusing the settings of a built ``ORBCalculator``."""

    def __init__(self, calc: Any, prepared: _Prepared):
        self.calc = calc
        self.prepared = prepared

    @staticmethod
    def supports(calc: Any) -> bool:
        """Return whether ``calc`` is orb's ASE calculator."""
        module = sys.modules.get("orb_models.forcefield.calculator")  # an Orb one imported it
        return module is not None and isinstance(calc, module.ORBCalculator)

    def evaluate(
        self, structures: Sequence[Atoms], *, forces: bool, stress: bool
    ) -> list[TaskResult]:
        """Evaluate every structure in one forward pass."""
        from orb_models.forcefield.atomic_system import ase_atoms_to_atom_graphs
        from orb_models.forcefield.base import batch_graphs

        calc = self.calc
        model = calc.model
        structures = self.prepared.structures(structures)
        if calc.expects_charge_and_spin:
            for atoms in structures:
                if "charge" not in atoms.info or "spin" not in atoms.info:
                    raise ValueError("atoms.info must contain both 'charge' and 'spin'")
        with self.prepared.dtype():
            graphs = [
                ase_atoms_to_atom_graphs(
                    atoms,
                    system_config=calc.system_config,
                    max_num_neighbors=calc.max_num_neighbors,
                    edge_method=calc.edge_method,
                    half_supercell=calc.half_supercell,
                    device=calc.device,
                )
                for atoms in structures
            ]
            batch = batch_graphs(graphs).to(calc.device)
            out = model.predict(batch, split=True)
        force_name = model.grad_forces_name if calc.conservative else "forces"
        stress_name = model.grad_stress_name if calc.conservative else "stress"
        results = []
        for index in range(len(structures)):
            result = TaskResult(energy=float(out["energy"][index].detach().reshape(-1)[0]))
            if forces:
                result.forces = out[force_name][index].detach().cpu().double().numpy()
            if stress and stress_name in out:
                result.stress = out[stress_name][index].detach().cpu().double().numpy().reshape(6)
            results.append(result)
        return results


def _voigt(matrix: np.ndarray) -> np.ndarray:
    """3×3 stress → Voigt (xx, yy, zz, yz, xz, xy), as ASE orders it."""
    return np.array(
        [matrix[0, 0], matrix[1, 1], matrix[2, 2], matrix[1, 2], matrix[0, 2], matrix[0, 1]]
    )


class SumBatch:
    """A batched model plus per-structure extras (a D3 correction), summed with weights."""

    def __init__(self, batched: BatchEvaluator, extras: list[tuple[float, Calculator]], weight):
        self.batched = batched
        self.extras = extras
        self.weight = weight

    def evaluate(
        self, structures: Sequence[Atoms], *, forces: bool, stress: bool
    ) -> list[TaskResult]:
        """Evaluate the model in a batch, then add each extra structure by structure."""
        results = self.batched.evaluate(structures, forces=forces, stress=stress)
        for atoms, result in zip(structures, results, strict=True):
            result.energy = self.weight * result.energy
            if result.forces is not None:
                result.forces = self.weight * result.forces
            if result.stress is not None:
                result.stress = self.weight * result.stress
            for weight, extra in self.extras:
                copy = atoms.copy()
                copy.calc = extra
                result.energy += weight * float(copy.get_potential_energy())
                if forces:
                    result.forces = result.forces + weight * copy.get_forces()
                if stress and result.stress is not None:
                    result.stress = result.stress + weight * copy.get_stress(voigt=True)
        return results


def batch_evaluator(calc: Calculator) -> BatchEvaluator | None:
    """Return a batched evaluator for ``calc``, or None when it has no batched path.

    Parameters
    ----------
    calc
        A calculator from :func:`mlpeg.models.registry.make_calculator`.

    Returns
    -------
    BatchEvaluator or None
        MACE and Orb models (optionally inside ``PreparedCalculator`` and a D3
        ``SumCalculator``) get one; anything else gets None.
    """
    from ase.calculators.mixing import LinearCombinationCalculator

    if isinstance(calc, LinearCombinationCalculator):
        calcs, weights = list(calc.mixer.calcs), list(calc.mixer.weights)
        batched = [
            (i, evaluator)
            for i, sub in enumerate(calcs)
            if (evaluator := batch_evaluator(sub)) is not None
        ]
        if len(batched) != 1:
            return None
        index, evaluator = batched[0]
        pairs = enumerate(zip(weights, calcs, strict=True))
        extras = [(weight, sub) for i, (weight, sub) in pairs if i != index]
        return SumBatch(evaluator, extras, weights[index])
    prepared = _Prepared()
    from mlpeg.models.prepare import PreparedCalculator

    if isinstance(calc, PreparedCalculator):
        prepared = _Prepared(calc.charge_spin, calc.torch_dtype)
        calc = calc.model
    for family in (MaceBatch, OrbBatch):
        if family.supports(calc):
            return family(calc, prepared)
    return None
