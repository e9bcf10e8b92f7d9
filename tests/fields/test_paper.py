"""Paper figure data (analysis.fields._paper): the sign-flip sweep of Gygax & Zenke 2025, sec. 5."""

import numpy as np


def test_sign_flip_numbers_are_consistent():
    """The SG zero crossing (beta_SG = 30) is where the integrated SG has its argmin."""
    from analysis.fields import sign_flip_sweep

    s = sign_flip_sweep(30.0)
    i = np.where(np.sign(s["sg"][1:]) != np.sign(s["sg"][:-1]))[0]
    assert len(i) == 1
    assert abs(s["w"][np.argmin(s["integrated_sg"])] - s["w"][i[0]]) <= 2 * (s["w"][1] - s["w"][0])
