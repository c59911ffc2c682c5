"""Custom GX expectations for the format's rules (pandas only).

Two row-wise expectations over a wide frame (one row per report, one column per cell):

* ``ExpectMulticolumnSumRules``: the k sum rules of one invariant (H1 has one per column),
  each ``Σ weight_i · cell_i + constant  op  0``: ``transforms.evaluator.linear`` of the rule
  book's checks, evaluated by ``transforms.evaluator.evaluate_matrix`` (the evaluator the
  parser's findings and the digit solver use too). One expectation per invariant, not per column,
  keeps GX's fixed cost per expectation (~50 ms) small. A rule touching a missing value
  is not evaluated by GX: the caller reports it as skipped, never as passed.
* ``ExpectMulticolumnValuesInDomain``: every non-missing cell of the row is in a value
  domain (H5).

Importing this module registers both expectations and their metrics with GX.
"""

from __future__ import annotations

import functools
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
from great_expectations.compatibility import pydantic
from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations.expectation import MulticolumnMapExpectation
from great_expectations.expectations.metrics.map_metric_provider import MulticolumnMapMetricProvider
from great_expectations.expectations.metrics.map_metric_provider.multicolumn_condition_partial import (
    multicolumn_condition_partial,
)

from transforms.evaluator import TOLERANCE, evaluate_matrix  # the one evaluator of the rule book's sums

DOMAINS = ("count", "signed", "nonnegative")


def encode_rules(rules) -> str:
    """``[[(0, 1.0), (2, -1.0)], ...]`` as ``"0:1 2:-1;..."``: a plain string keeps GX's
    pydantic configuration handling cheap (it serialises the kwargs many times per run)."""
    return ";".join(" ".join(f"{c}:{w:g}" for c, w in r) for r in rules)


@functools.lru_cache(maxsize=512)
def decode_rules(text: str) -> tuple[tuple[tuple[int, float], ...], ...]:
    return tuple(
        tuple((int(c), float(w)) for c, w in (t.split(":") for t in r.split())) for r in text.split(";")
    )


def evaluate_rules(values: np.ndarray, rules, constants, op: str) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise evaluation of k sum rules over the columns of ``values`` (rows x columns) by
    ``transforms.evaluator.evaluate_matrix``; ``rules`` and ``constants`` may be the expectation's
    encoded text. Returns ``(ok, evaluated)``, both rows x k."""
    if isinstance(rules, str):
        rules = decode_rules(rules)
    if isinstance(constants, str):
        constants = [float(c) for c in constants.split()]
    return evaluate_matrix(values, rules, constants, op)


def in_domain(values: np.ndarray, domain: str) -> np.ndarray:
    """Element-wise: True where the value is missing or in the domain."""
    missing = np.isnan(values)
    whole = np.isclose(values, np.round(values), rtol=0, atol=TOLERANCE)
    if domain == "count":
        ok = whole & (values >= 0)
    elif domain == "signed":
        ok = whole
    elif domain == "nonnegative":
        ok = values >= 0
    else:
        raise ValueError(f"unknown value domain {domain!r}; expected one of {DOMAINS}")
    return missing | ok


# GX's domain keys of a multicolumn map metric, the same for both metrics below.
_MULTICOLUMN_DOMAIN_KEYS = ("batch_id", "table", "column_list", "row_condition", "condition_parser", "ignore_row_if")


class MulticolumnSumRules(MulticolumnMapMetricProvider):
    condition_metric_name = "xxgk_multicolumn.sum_rules"
    condition_domain_keys = _MULTICOLUMN_DOMAIN_KEYS
    condition_value_keys = ("rules", "constants", "op", "missing_fails")

    @multicolumn_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column_list, rules, constants, op, missing_fails=False, **kwargs):
        values = column_list.to_numpy(dtype=float, na_value=np.nan)
        ok, evaluated = evaluate_rules(values, rules, constants, op)
        if missing_fails:
            ok &= evaluated
        return pd.Series(ok.all(axis=1), index=column_list.index)


class MulticolumnValuesInDomain(MulticolumnMapMetricProvider):
    condition_metric_name = "xxgk_multicolumn.values_in_domain"
    condition_domain_keys = _MULTICOLUMN_DOMAIN_KEYS
    condition_value_keys = ("domain",)

    @multicolumn_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column_list, domain, **kwargs):
        values = column_list.to_numpy(dtype=float, na_value=np.nan)
        return pd.Series(in_domain(values, domain).all(axis=1), index=column_list.index)


class _ConfigurationOncePerLookup(MulticolumnMapExpectation):
    """GX's ``_get_runtime_kwargs`` (~6 calls per expectation and suite run, through ``get_metric_kwargs``)
    rebuilds the expectation's ``configuration`` (a pydantic ``dict()`` and a new ExpectationConfiguration)
    for every domain, success and runtime key it looks up: ~12 times per call, ~80 times per expectation,
    ~0.2 CPU-s of every suite run over xxgk's ~50 expectations, whatever the rows. Here the configuration
    is built once per lookup and read for every key: the same values (nothing changes the expectation while
    GX reads its keys), the same kwargs."""

    _configuration_of_lookup: Any = pydantic.PrivateAttr(default=None)

    @property
    def configuration(self):
        return self._configuration_of_lookup or super().configuration

    def _get_runtime_kwargs(self, runtime_configuration: dict | None = None) -> dict:
        self._configuration_of_lookup = super().configuration
        try:
            return super()._get_runtime_kwargs(runtime_configuration=runtime_configuration)
        finally:
            self._configuration_of_lookup = None


class ExpectMulticolumnSumRules(_ConfigurationOncePerLookup):
    """Expect every sum rule of one invariant to hold for the row.

    ``rules`` is ``encode_rules`` text: per rule, ``index:weight`` pairs (index into
    ``column_list``), rules separated by ``;``; rule i holds when
    ``Σ weight * row[column] + constants[i]  op  0`` (``constants``: space-separated). A rule touching a missing value is not
    evaluated (the caller reports it as skipped) unless ``missing_fails``.
    """

    rules: str
    constants: str
    op: Literal["==", "<=", ">=", "<"] = "=="
    missing_fails: bool = False
    ignore_row_if: Literal["all_values_are_missing", "any_value_is_missing", "never"] = "never"

    map_metric: ClassVar[str] = "xxgk_multicolumn.sum_rules"
    success_keys: ClassVar[tuple[str, ...]] = ("mostly", "rules", "constants", "op", "missing_fails")
    args_keys: ClassVar[tuple[str, ...]] = ("column_list", "rules", "constants", "op", "missing_fails")


class ExpectMulticolumnValuesInDomain(_ConfigurationOncePerLookup):
    """Expect every non-missing value of the row's columns to lie in ``domain`` (H5)."""

    domain: Literal["count", "signed", "nonnegative"] = "count"
    ignore_row_if: Literal["all_values_are_missing", "any_value_is_missing", "never"] = "never"

    map_metric: ClassVar[str] = "xxgk_multicolumn.values_in_domain"
    success_keys: ClassVar[tuple[str, ...]] = ("mostly", "domain")
    args_keys: ClassVar[tuple[str, ...]] = ("column_list", "domain")
