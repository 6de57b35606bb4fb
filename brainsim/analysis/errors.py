"""AnalysisError: what the user pointed the analysis at cannot be used."""
from __future__ import annotations


class AnalysisError(ValueError):
    """An output directory, reference file or option cannot be used; str() is one line
    naming the file (or option), the rule and what was found."""
