"""DipCONFS: 612 conformer energies of 17 neutral amino acids and 289 dipeptides.

The sheet "Conformational Energies DipCONF" of the reference spreadsheet lists, per row, a
reference conformer, a conformer and the PNO-LCCSD(T)-F12b/AVQZ' energy of the second
relative to the first (kcal/mol), then other methods' values. Labels such as ``A-He/353``
name the folder ``DipCONFS/A-He-353/struc.xyz`` of the zip (``/`` becomes ``-``).
"""

import zipfile
from pathlib import Path

from mlpeg.data import read_manifest
from mlpeg.errors import DataError
from mlpeg.reactions import KCAL_PER_MOL, Reaction, ReactionBenchmark, ReactionData
from mlpeg.refdata import parse_xyz
from mlpeg.sources import pinned, set_charge_spin

MANIFEST = Path(__file__).with_name("data.sha256")
SHEET_FILE = "Conformational_energies_DipCONFS.xlsx"
SHEET = "Conformational Energies DipCONF"
ZIP = "DipCONFS_xyz.zip"
COLUMNS = ("Reference Conformer", "Conformer", "PNO-LCCSD(T)-F12b/AVQZ’")
LEVEL = "PNO-LCCSD(T)-F12b/AVQZ'"
SOURCE = "Plett, Grimme, Hansen, JCTC 20, 8329 (2024)"


def read_pairs(path: Path) -> list[tuple[str, str, float]]:
    """Return (reference conformer, conformer, kcal/mol) rows of the reference sheet.

    Raises
    ------
    DataError
        When the sheet or one of its three first columns is missing, or a row is incomplete.
    """
    try:
        import openpyxl
    except ImportError as exc:
        raise DataError(f"Reading {path} needs openpyxl: pip install 'mlpeg[xlsx]'.") from exc
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (OSError, zipfile.BadZipFile, KeyError) as exc:
        raise DataError(f"{path}: not a readable xlsx workbook ({exc}).") from exc
    if SHEET not in workbook.sheetnames:
        raise DataError(f"{path}: has no sheet '{SHEET}' ({', '.join(workbook.sheetnames)}).")
    rows = workbook[SHEET].iter_rows(values_only=True)
    header = next(rows, ())
    if tuple(header[:3]) != COLUMNS:
        raise DataError(f"{path}: sheet '{SHEET}' starts with {header[:3]}, expected {COLUMNS}.")
    pairs = []
    for number, row in enumerate(rows, start=2):
        if not any(cell is not None for cell in row):
            continue
        reference, conformer, value = row[:3]
        if not (isinstance(reference, str) and isinstance(conformer, str)) or not isinstance(
            value, int | float
        ):
            raise DataError(f"{path}: sheet '{SHEET}' row {number} is incomplete: {row[:3]}.")
        pairs.append((reference, conformer, float(value)))
    workbook.close()
    return pairs


def member(label: str) -> str:
    """The zip member of a conformer label: ``A-He/353`` -> ``DipCONFS/A-He-353/struc.xyz``."""
    return f"DipCONFS/{label.replace('/', '-')}/struc.xyz"


def subset(label: str) -> str:
    """``amino acid`` for ``A/6``, ``dipeptide`` for ``A-He/353``."""
    return "dipeptide" if "-" in label.split("/")[0] else "amino acid"


def load(manifest: Path = MANIFEST) -> ReactionData:
    """Read the 612 pairs and their 918 structures from the files pinned in ``manifest``."""
    files = read_manifest(manifest)
    pairs = read_pairs(pinned(files, SHEET_FILE, manifest))
    archive_path = pinned(files, ZIP, manifest)
    structures = {}
    try:
        with zipfile.ZipFile(archive_path) as archive:
            members = {n for n in archive.namelist() if n.endswith("/struc.xyz")}
            labels = dict.fromkeys(label for ref, conf, _ in pairs for label in (ref, conf))
            unused = sorted(members - {member(label) for label in labels})
            if unused:
                raise DataError(f"{archive_path}: no reference pair uses {', '.join(unused[:5])}.")
            for label in labels:
                name = member(label)
                if name not in members:
                    raise DataError(f"{archive_path}: has no {name} for conformer {label}.")
                text = archive.read(name).decode("utf-8", errors="replace")
                atoms = parse_xyz(text, source=f"{archive_path}:{name}")
                structures[label] = set_charge_spin(atoms, 0, 1)  # neutral closed-shell
    except zipfile.BadZipFile as exc:
        raise DataError(f"{archive_path}: not a readable zip archive ({exc}).") from exc
    reactions = [
        Reaction(conf, ((conf, 1.0), (ref, -1.0)), value * KCAL_PER_MOL, subset(conf))
        for ref, conf, value in pairs
    ]
    return ReactionData(reactions, structures, "conformer_energy", LEVEL, SOURCE)


def quick(reactions):
    """The quick band: the 34 pairs of the 17 single amino acids (51 structures)."""
    return [r for r in reactions if r.subset == "amino acid"]


BENCHMARK = ReactionBenchmark(load, quick=quick)
tasks, references, reactions = BENCHMARK.tasks, BENCHMARK.references, BENCHMARK.reactions
