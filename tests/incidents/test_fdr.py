"""Benjamini-Hochberg adjustment and the p-value wording (geo.incidents.fdr, geo.incidents.reporting)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import false_discovery_control

from geo.incidents.fdr import bh_adjust, correct
from geo.incidents.reporting import format_p, method_line


def test_bh_by_hand():
    # m = 5, alpha = 0.05: thresholds k * 0.01 = 0.01, 0.02, 0.03, 0.04, 0.05.
    # Sorted p: 0.001 <= 0.01 yes; 0.015 <= 0.02 yes; 0.035 > 0.03; 0.04 <= 0.04 yes (largest k = 4); 0.6 > 0.05.
    # So the four smallest are rejected, 0.035 included (step-up), 0.6 not.
    p = np.array([0.6, 0.035, 0.001, 0.04, 0.015])
    sig, adj = correct(p, 0.05)
    assert sig.tolist() == [False, True, True, True, True]
    # Adjusted: 0.001*5/1 = 0.005; 0.015*5/2 = 0.0375; 0.035*5/3 = 0.0583 -> min with 0.04*5/4 = 0.05; 0.05; 0.6.
    np.testing.assert_allclose(adj, [0.6, 0.05, 0.005, 0.05, 0.0375])


def test_bh_matches_scipy_and_keeps_nan():
    rng = np.random.default_rng(3)
    p = rng.uniform(0, 0.2, 50) ** 2
    np.testing.assert_allclose(bh_adjust(p), false_discovery_control(p, method="bh"))
    with_nan = np.concatenate([p, [np.nan]])
    adj = bh_adjust(with_nan)
    assert np.isnan(adj[-1])
    np.testing.assert_allclose(adj[:-1], false_discovery_control(p, method="bh"))


def test_no_correction_is_plain_threshold():
    sig, adj = correct([0.04, 0.06], 0.05, "none")
    assert sig.tolist() == [True, False] and adj.tolist() == [0.04, 0.06]
    with pytest.raises(ValueError, match="unknown correction"):
        correct([0.1], 0.05, "bonferroni")


@pytest.mark.parametrize(("p", "text"), [(0.0004, "< 0.001"), (0.0, "< 0.001"), (0.001, "0.001"), (0.0344, "0.034"), (0.52, "0.52"), (1.0, "1"), (float("nan"), "–"), (None, "–")])
def test_format_p(p, text):
    assert format_p(p) == text


def test_format_p_rejects_non_p_values():
    with pytest.raises(ValueError, match="not a p-value"):
        format_p(1.5)


def test_method_line_is_one_line():
    line = method_line("Gi*", "Benjamini-Hochberg FDR at 0.05", "not proof of cause")
    assert "\n" not in line and line.startswith("method: Gi*") and "correction: Benjamini-Hochberg" in line
