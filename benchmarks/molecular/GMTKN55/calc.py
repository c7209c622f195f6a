"""GMTKN55: the 55 subsets' reactions and their species, from refdata (1,497 reactions).

refdata holds 53 subsets under ``10_din-GMTKN55`` and S22 and S66 under ``10_din``;
its BH76 lists 68 of the 76 barriers. Subset names follow Goerigk et al. (2017).
"""

from pathlib import Path

from mlpeg.reactions import ReactionBenchmark, RefdataSubset, load_refdata

# refdata file stem -> subset name in Goerigk et al., PCCP 19, 32184 (2017)
SUBSETS = {
    "w4-11": "W4-11", "g21ea": "G21EA", "g21ip": "G21IP", "dipcs10": "DIPCS10",
    "pa26": "PA26", "sie4x4": "SIE4x4", "alkbde10": "ALKBDE10", "ybde18": "YBDE18",
    "al2x6": "AL2X6", "heavysb11": "HEAVYSB11", "nbprc": "NBPRC", "alk8": "ALK8",
    "rc21": "RC21", "g2rc": "G2RC", "bh76rc": "BH76RC", "fh51": "FH51", "taut15": "TAUT15",
    "dc13": "DC13", "mb16-43": "MB16-43", "darc": "DARC", "rse43": "RSE43", "bsr36": "BSR36",
    "cdie20": "CDIE20", "iso34": "ISO34", "isol24": "ISOL24", "c60iso": "C60ISO",
    "parel": "PArel", "bh76": "BH76", "bhperi": "BHPERI", "bhdiv10": "BHDIV10",
    "inv24": "INV24", "bhrot27": "BHROT27", "px13": "PX13", "wcpt18": "WCPT18",
    "rg18": "RG18", "adim6": "ADIM6", "s22": "S22", "s66": "S66", "heavy28": "HEAVY28",
    "water27": "WATER27", "carbhb12": "CARBHB12", "pnico23": "PNICO23", "hal59": "HAL59",
    "ahb21": "AHB21", "chb6": "CHB6", "il16": "IL16", "idisp": "IDISP", "iconf": "ICONF",
    "aconf": "ACONF", "amino20x4": "Amino20x4", "pconf21": "PCONF21", "mconf": "MCONF",
    "sconf": "SCONF", "upu23": "UPU23", "but14diol": "BUT14DIOL",
}  # fmt: skip
# subsets whose files are not in 10_din-GMTKN55 and 30_collection-GMTKN55/<stem>
DINS = {"s22": "10_din/s22.din", "s66": "10_din/s66.din"}
FOLDERS = {"bh76rc": "30_collection-GMTKN55/bh76", "s22": "20_s22", "s66": "20_s66"}


def subset(stem: str) -> RefdataSubset:
    din = DINS.get(stem, f"10_din-GMTKN55/{stem}.din")
    folder = FOLDERS.get(stem, f"30_collection-GMTKN55/{stem}")
    return RefdataSubset(din, (folder,), SUBSETS[stem], prefix=True)


BENCHMARK = ReactionBenchmark(
    lambda: load_refdata(
        Path(__file__).with_name("data.sha256"),
        [subset(stem) for stem in SUBSETS],
        quantity="reaction_energy",
        level_of_theory="CCSD(T)/CBS",
        source="Goerigk et al., PCCP 19, 32184 (2017), via refdata",
    )
)
tasks, references, reactions = BENCHMARK.tasks, BENCHMARK.references, BENCHMARK.reactions
