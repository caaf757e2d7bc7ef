"""``ketareport init``: the files a clinic starts a study from.

A commented study.yml generated from the configuration schema
(:func:`ketareport.config_docs.study_yml_template`), the two tables as CSV
files holding only the data dictionary's header row (from
:mod:`ketareport.contract`), and a README pointing to the data dictionary.
"""

from __future__ import annotations

from pathlib import Path

from .contract import ANALYSIS_COLUMNS, INFUSION_COLUMNS, PATIENT_COLUMNS, REQUIRED_INFUSION_COLUMNS, REQUIRED_PATIENT_COLUMNS
from .errors import WouldOverwrite
from .output import StagedOutput, check_writable

DATA_DICTIONARY_URL = "docs/data-dictionary.md"


def _readme() -> str:
    return f"""# Study dataset

Made by `ketareport init`. Fill in:

* `patients.csv`: one row per patient. Required columns:
  {', '.join(f'`{name}`' for name in REQUIRED_PATIENT_COLUMNS)}; the others may stay blank.
* `infusions.csv`: one row per infusion. Required: {', '.join(f'`{name}`' for name in REQUIRED_INFUSION_COLUMNS)};
  an infusion missing any of {', '.join(f'`{name}`' for name in ANALYSIS_COLUMNS)}
  is excluded from the analysis (and counted).
* `study.yml`: the title, authors, review-board statement and study period
  (the report is a draft until they are given), and every analysis option
  with its default.

Every column, its type and its rule: the data dictionary in the ketareport
sources ({DATA_DICTIONARY_URL}). Then:

```sh
ketareport check .                  # validate and summarise, writing nothing
ketareport render . --out report    # the manuscript (HTML and PDF)
```
"""


def scaffold_files() -> dict[str, str]:
    """File name -> content of what ``init`` writes."""
    from .config_docs import study_yml_template

    return {
        "study.yml": study_yml_template(),
        "patients.csv": ",".join(PATIENT_COLUMNS) + "\n",
        "infusions.csv": ",".join(INFUSION_COLUMNS) + "\n",
        "README.md": _readme(),
    }


def write_scaffold(folder: Path) -> list[Path]:
    """Write the starting files into ``folder`` (created if missing), all or none.

    Raises :class:`WouldOverwrite` when any of them exists already.
    """
    folder = Path(folder)
    files = scaffold_files()
    existing = [name for name in files if (folder / name).exists()]
    if existing:
        raise WouldOverwrite(f"{folder} already holds {', '.join(existing)}; init writes only into a folder without them")
    check_writable(folder)
    with StagedOutput(folder, manifest=False) as staged:
        for name, content in files.items():
            staged.path(name).write_text(content, encoding="utf-8")
        return staged.publish()
