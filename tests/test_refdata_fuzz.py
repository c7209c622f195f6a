"""Fuzzing the refdata ``.din`` reader with generated reaction files.

* any well-formed file, with comments, blank lines and ``KCAL`` lines mixed in, reads back
  to exactly the reactions written;
* a damaged file (truncated, a line garbled or replaced by ``nan``) either reads to
  reactions whose numbers are all finite or fails with one ``DataError`` naming the file,
  never another exception.
"""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from mlpeg.errors import DataError
from mlpeg.refdata import parse_din

names = st.from_regex(r"[A-Za-z][A-Za-z0-9_.+-]{0,10}", fullmatch=True).filter(
    lambda name: name.upper() != "KCAL"
)
coefficients = st.integers(-4, 4).filter(bool).map(float) | st.sampled_from([0.5, -0.5, 2.5])
values = st.floats(-500, 500, allow_nan=False).map(lambda x: round(x, 4))
reactions = st.lists(
    st.tuples(
        st.lists(st.tuples(coefficients, names), min_size=1, max_size=5),
        values,
        st.one_of(st.none(), names),
    ),
    min_size=1,
    max_size=6,
)
filler = st.sampled_from(["", "# a comment", "KCAL", "   "])


def din_text(data: list, fillers: list[str]) -> str:
    """Write reactions as refdata does: coefficient / name pairs, 0, value [name]."""
    lines = ["# generated", "#@ fieldasrxn 0"]
    for number, (species, value, name) in enumerate(data):
        lines.append(fillers[number % len(fillers)] if fillers else "")
        for coefficient, structure in species:
            lines += [f"{coefficient:g}", structure]
        lines += ["0", f"{value!r} {name}" if name else repr(value)]
    lines.append("-111")
    return "\n".join(lines) + "\n"


@settings(max_examples=100, deadline=None)
@given(reactions, st.lists(filler, max_size=4))
def test_well_formed_files_read_back_exactly(data, fillers):
    read = parse_din(din_text(data, fillers), source="gen.din")
    assert len(read) == len(data)
    for index, (reaction, (species, value, name)) in enumerate(zip(read, data, strict=True)):
        assert reaction.species == tuple(species)
        assert reaction.reference_kcal_per_mol == value
        assert reaction.name == (name or str(index + 1))  # fieldasrxn 0: position
        assert reaction.index == index + 1


@settings(max_examples=150, deadline=None)
@given(reactions, st.data())
def test_damaged_files_fail_with_one_error_naming_the_file(data, draw):
    lines = din_text(data, []).splitlines()
    damage = draw.draw(st.sampled_from(["truncate", "garble", "nan", "inf", "drop"]))
    at = draw.draw(st.integers(2, len(lines) - 1))
    if damage == "truncate":
        lines = lines[:at]
    elif damage == "garble":
        lines[at] = draw.draw(st.text(alphabet="x1.-e #", min_size=1, max_size=6))
    elif damage == "drop":
        del lines[at]
    else:
        lines[at] = damage
    try:
        read = parse_din("\n".join(lines), source="broken.din")
    except DataError as exc:
        assert str(exc).startswith("broken.din")
        return
    for reaction in read:  # whatever was accepted holds finite numbers and real species
        assert reaction.species and math.isfinite(reaction.reference_kcal_per_mol)
        assert all(math.isfinite(c) and c != 0 for c, _ in reaction.species)
