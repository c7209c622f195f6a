"""Packaging beside pyproject.toml: ship sql/, benchmarks/ and streamlit_app/ in the wheel.

They stay top-level folders of the repository (one benchmark = one folder) and install as
``mlpeg/sql``, ``mlpeg/benchmarks`` and ``mlpeg/streamlit_app``, where ``mlpeg.paths``
finds them when mlpeg runs outside a checkout. Every folder under them is declared as a
(namespace) package with all its files as package data, so setuptools neither skips a
benchmark folder nor warns about one. Everything else is in pyproject.toml.
"""

from setuptools import find_namespace_packages, setup

RESOURCES = {
    "mlpeg.sql": "sql",
    "mlpeg.benchmarks": "benchmarks",
    "mlpeg.streamlit_app": "streamlit_app",
}
SKIP = ["__pycache__", "*.__pycache__"]

resource_packages = [
    name
    for package, folder in RESOURCES.items()
    for name in (
        package,
        *(f"{package}.{sub}" for sub in find_namespace_packages(folder, exclude=SKIP)),
    )
]

setup(
    packages=[*find_namespace_packages(include=["mlpeg*"], exclude=SKIP), *resource_packages],
    package_dir=RESOURCES,
    package_data={
        "mlpeg.models": ["*.yml", "*.sha256"],
        "mlpeg.schemas": ["*.yml"],
        **{name: ["*", ".streamlit/*"] for name in resource_packages},
    },
    exclude_package_data={"": ["*.pyc"]},
)
