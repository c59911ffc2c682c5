from __future__ import annotations

import pandas as pd
import pytest
from xp_cases import CASES

from expectations.frames import frames_from_reports
from expectations.validate import validate


@pytest.fixture(scope="session")
def results() -> pd.DataFrame:
    """Every case of xp_cases validated in one call, as the pipeline validates a run."""
    return validate(frames_from_reports(CASES))
