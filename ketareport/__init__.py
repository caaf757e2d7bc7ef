"""ketareport: from a chart-review dataset of ketamine infusions to a manuscript.

The pipeline is visible in the module names:
load -> validate -> cohort -> analyze -> results -> render (HTML, PDF, Quarto, R).
"""

__version__ = "0.1.0"
