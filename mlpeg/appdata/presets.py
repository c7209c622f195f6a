"""ML-PEG's category weight presets, by category key.

A preset weights the categories it lists 1 and every other category 0, as ML-PEG's app
does. The lists follow ML-PEG's presets, with its category titles mapped to our keys.
"""

from __future__ import annotations

#: Preset name -> the categories it weights 1 (all others 0).
PRESETS: dict[str, tuple[str, ...]] = {
    "Materials": ("bulk_crystal", "surfaces", "nebs", "physicality"),
    "Molecules": (
        "molecular",
        "molecular_reactions",
        "molecular_crystal",
        "conformers",
        "non_covalent_interactions",
        "supramolecular",
        "isomers",
        "thermochemistry",
        "electric_field",
        "physicality",
    ),
    "Reactivity": (
        "molecular_reactions",
        "thermochemistry",
        "nebs",
        "isomers",
        "molecular_dynamics",
    ),
    "Non-covalent": (
        "non_covalent_interactions",
        "supramolecular",
        "molecular_crystal",
        "conformers",
    ),
    "TM & f-block": ("tm_complexes", "f_block"),
}


def preset_weights(name: str, category_keys: list[str]) -> dict[str, float]:
    """Return the weight of each category in ``category_keys`` under a preset.

    Raises
    ------
    KeyError
        If ``name`` is not a preset.
    """
    chosen = set(PRESETS[name])
    return {key: 1.0 if key in chosen else 0.0 for key in category_keys}
