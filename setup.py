"""Packaging beside pyproject.toml: ship sql/, benchmarks/ and streamlit_app/ in the wheel.

They stay top-level folders of the repository (one benchmark = one folder) and install as
``mlpeg/sql``, ``mlpeg/benchmarks`` and ``mlpeg/streamlit_app``, where ``mlpeg.paths``
finds them when mlpeg runs outside a checkout. Everything else is in pyproject.toml.
"""

from setuptools import find_packages, setup

RESOURCES = {
    "mlpeg.sql": "sql",
    "mlpeg.benchmarks": "benchmarks",
    "mlpeg.streamlit_app": "streamlit_app",
}

setup(
    packages=[*find_packages(include=["mlpeg", "mlpeg.*"]), *RESOURCES],
    package_dir=RESOURCES,
    package_data={
        "mlpeg": ["models/*.yml", "models/*.sha256", "schemas/*.yml"],
        "mlpeg.sql": ["*.sql", "*.yml", "*/*.sql"],
        "mlpeg.benchmarks": ["*/*.yml", "*/*/*", "*/*/*/**/*"],
        "mlpeg.streamlit_app": ["*.py", "app_pages/*.py", "static/*", ".streamlit/*"],
    },
    exclude_package_data={"": ["__pycache__/*", "*.pyc"]},
)
