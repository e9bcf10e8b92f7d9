"""Published vs reproduced: one verdict rule per row of ``paper/published.json``.

A rule receives the raw reproduced values the row names (``None`` where the result files do
not have them) and returns the reproduced value in words, the difference to the published
value or statement, and a verdict: ``agrees``, ``differs``, ``partly`` or ``not run``.
"""

from __future__ import annotations

from collections.abc import Callable

from proofs_numeric._registry import format_value as fmt

Row = tuple[str, str, str]
_MISSING = ("n/a", "n/a", "not run")


def _num(x) -> float | None:
    return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) else None


def _nums(v: dict, *keys: str) -> tuple[float, ...] | None:
    """The values named ``keys`` as floats, or None when any of them is missing or not a
    number (the rule then reports the row as not run)."""
    xs = [_num(v[k]) for k in keys]
    return tuple(x for x in xs if x is not None) if None not in xs else None


def _first(x):
    return x[0] if isinstance(x, list) and x else None


def _loop(v: dict, tag: str) -> Row:
    beta, value, err = (v[f"loop.{tag}.{k}"] for k in ("beta_sg", "loop_integral", "quad_error"))
    if _num(value) is None or _num(err) is None:
        return _MISSING
    ratio = abs(value) / err if err else float("inf")
    return (
        f"β_SG = {fmt(beta)}: I = {fmt(value)} (quadrature error {fmt(err, 2)})",
        f"|I| / error = {fmt(ratio, 3)}",
        "agrees" if ratio > 100 else "differs",
    )


def _loop_exact(v: dict) -> Row:
    if (xs := _nums(v, "exact.worst", "exact.tolerance")) is None:
        return _MISSING
    worst, tol = xs
    return (
        f"largest arc gap (line integral vs potential difference) {fmt(worst, 2)}",
        f"tolerance {fmt(tol)}",
        _ok(worst <= tol),
    )


def _ok(flag: bool) -> str:
    return "agrees" if flag else "differs"


def _true_min(v: dict) -> Row:
    cross, argmin = _num(_first(v["flip.b.true_zero_crossings"])), _num(v["flip.b.argmin_loss"])
    if cross is None or argmin is None:
        return _MISSING
    return (
        f"true gradient zero at w = {fmt(cross)}; loss argmin on the grid w = {fmt(argmin)}",
        f"{fmt(cross - argmin, 2)} (grid spacing scale)",
        _ok(abs(cross - argmin) < 1e-3),
    )


def _flip_b(v: dict) -> Row:
    sg, true = _num(_first(v["flip.b.sg_zero_crossings"])), _num(_first(v["flip.b.true_zero_crossings"]))
    agree = _num(v["flip.b.sign_agreement"])
    if sg is None or true is None or agree is None:
        return _MISSING
    return (
        f"β_SG = {fmt(v['flip.b.beta_sg'])}: SG zero at w = {fmt(sg)}; "
        f"signs agree on {fmt(agree, 3)} of the sweep",
        f"SG zero - true zero = {fmt(sg - true, 3)}",
        _ok(agree < 1 and abs(sg - true) > 1e-3),
    )


def _flip_a(v: dict) -> Row:
    crossings, agree, end = v["flip.a.sg_zero_crossings"], _num(v["flip.a.sign_agreement"]), v["descent.a_w"]
    if not isinstance(crossings, list) or agree is None or (crossings and _num(crossings[0]) is None):
        return _MISSING
    beta = fmt(v["flip.a.beta_sg"])
    if crossings:
        return (f"β_SG = {beta}: SG zero at w = {fmt(crossings[0])}", "", _ok(agree < 1))
    return (
        f"β_SG = {beta}: no SG zero crossing on the sweep; signs agree on {fmt(agree, 3)} of it",
        f"SG descent ends at w = {fmt(end)}, outside the sweep",
        "partly",
    )


def _plateau_true(v: dict) -> Row:
    if (xs := _nums(v, "plateau.true_grad", "plateau.true_drop")) is None:
        return _MISSING
    g, drop = xs
    return (
        f"max |true gradient| = {fmt(g, 2)} at (v1, v2) = {fmt(v['plateau.start'])}",
        f"true-gradient descent lowers the loss by {fmt(drop, 2)}",
        _ok(g < 1e-12),
    )


def _plateau_sg(v: dict) -> Row:
    drop = _num(v["plateau.wide_drop"])
    if drop is None:
        return _MISSING
    return (f"SG descent lowers the loss by {fmt(drop)}", "", _ok(drop > 0.5))


def _chain(v: dict) -> Row:
    if (xs := _nums(v, "chain.grad", "chain.esg")) is None:
        return _MISSING
    grad, esg = xs
    return (
        f"exact gradient {fmt(grad)}; E[SG] {fmt(esg)} (both by enumeration)",
        fmt(esg - grad),
        _ok(abs(esg - grad) > 1e-6),
    )


def _last_layer(v: dict) -> Row:
    if (xs := _nums(v, "bias.last_binary", "lif.last_detached", "lif.last_differentiable")) is None:
        return _MISSING
    binary, det, diff = xs
    return (
        f"binary feedforward: last-layer bias {fmt(binary, 2)}; LIF in time: relative bias "
        f"{fmt(det, 3)} (reset detached), {fmt(diff, 3)} (reset differentiated)",
        "exact for binary networks, not in time",
        "partly" if binary < 1e-12 else "differs",
    )


def _limit(v: dict) -> Row:
    if (xs := _nums(v, "limit.measured", "limit.reference")) is None:
        return _MISSING
    (m, r), slope = xs, _num(v["limit.slope"])
    return (
        f"measured {fmt(m)} vs reference {fmt(r)}; fitted log-log slope {fmt(slope, 3)}",
        fmt(m - r, 2),
        _ok(abs(m - r) <= 0.05 * abs(r)),
    )


def _train_learn(v: dict) -> Row:
    if (xs := _nums(v, "train.vr_det", "train.vr_stoch", "train.vr_max")) is None:
        return _MISSING
    det, sto, cap = xs
    return (
        f"deterministic {fmt(det, 3)}, stochastic {fmt(sto, 3)}",
        f"criterion <= {fmt(cap)}",
        _ok(max(det, sto) <= cap),
    )


def _train_fano(v: dict) -> Row:
    if (xs := _nums(v, "train.fano_stoch", "train.fano_stoch_se", "train.fano_det")) is None:
        return _MISSING
    sto, se, det = xs
    return (
        f"stochastic {fmt(sto, 3)} (SE {fmt(se, 2)}), deterministic {fmt(det)}",
        f"stochastic / SE = {fmt(sto / se if se else float('inf'), 3)}",
        _ok(sto > 2 * se and det == 0),
    )


def _randman(v: dict) -> Row:
    """The claim's own verdict (a TOST over seeds: the 90 % CI of the gap inside +- tol)."""
    if (xs := _nums(v, "randman.det", "randman.stoch", "randman.gap", "randman.tol")) is None:
        return _MISSING
    det, sto, gap, tol = xs
    ci = _nums(v, "randman.ci_low", "randman.ci_high")
    shown = f"gap {fmt(gap, 2)}" + ("" if ci is None else f", 90 % CI [{fmt(ci[0], 2)}, {fmt(ci[1], 2)}]")
    return (
        f"deterministic {fmt(det, 3)}, stochastic {fmt(sto, 3)}",
        f"{shown} (margin {fmt(tol)})",
        _ok(v.get("randman.passed") is True),
    )


def _shd(v: dict) -> Row:
    return (
        "not run by this build (needs the SHD files: sgtheory train shd --profile paper)",
        "n/a",
        "not run",
    )


RULES: dict[str, Callable[[dict], Row]] = {
    "loop_a": lambda v: _loop(v, "a"),
    "loop_b": lambda v: _loop(v, "b"),
    "loop_c": lambda v: _loop(v, "c"),
    "loop_exact": _loop_exact,
    "flip_true_min": _true_min,
    "flip_sg_b": _flip_b,
    "flip_sg_a": _flip_a,
    "plateau_true": _plateau_true,
    "plateau_sg": _plateau_sg,
    "chain_bias": _chain,
    "last_layer": _last_layer,
    "det_limit": _limit,
    "train_learn": _train_learn,
    "train_fano": _train_fano,
    "randman": _randman,
    "shd": _shd,
}


def published_rows(spec: dict, raw: dict) -> list[dict]:
    """The table rows: ``spec`` (``paper/published.json``) with the reproduced value, the
    difference and the verdict of each row (``raw``: value name -> raw value)."""
    rows = spec.get("rows")
    if not isinstance(rows, list):
        raise ValueError("published.json: 'rows' must be a list")
    ids = [r.get("id") for r in rows]
    if sorted(map(str, ids)) != sorted(RULES):
        raise ValueError(f"published.json rows {ids} do not match the verdict rules {sorted(RULES)}")
    out = []
    for r in rows:
        missing = [k for k in r.get("values", []) if k not in raw]
        if missing:
            raise ValueError(f"published.json row {r['id']!r}: unknown value names {missing}")
        reproduced, difference, verdict = RULES[r["id"]](raw)
        out.append(
            {
                **r,
                "published_text": _published_text(r.get("published")),
                "has_number": r.get("published") is not None,
                "reproduced": reproduced,
                "difference": difference,
                "verdict": verdict,
            }
        )
    return out


def _published_text(p) -> str:
    if p is None:
        return "-"
    if isinstance(p, list) and len(p) == 2:
        return f"{fmt(p[0])} to {fmt(p[1])}"
    return fmt(p)
