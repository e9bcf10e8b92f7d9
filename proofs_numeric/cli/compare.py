"""``sgtheory compare SPEC.json``: exact value and gradient of a small network, and every
estimator's mean, standard error, bias, alignment and cost (analysis.stochastic._compare)."""

from __future__ import annotations

X64 = True
HELP = "exact E[L], grad E[L] and gradient estimators for a network given as JSON"


def add_arguments(parser) -> None:
    parser.add_argument("spec", help="network spec (JSON; schema in the README and analysis/netspec.py)")
    parser.add_argument("--samples", type=int, default=2000, help="samples per estimator (default 2000)")
    parser.add_argument("--seed", type=int, default=0, help="PRNG seed (default 0)")
    parser.add_argument("--json", metavar="OUT", help="write exact values and estimator rows as JSON")
    parser.add_argument("--csv", metavar="OUT", help="write the estimator table as CSV")


def run(args) -> int:
    import jax

    from analysis.runtime import write_json
    from analysis.stochastic import (
        ESTIMATORS,
        compare_estimators,
        coordinate_names,
        exact_value_and_grad,
        flatten,
        format_table,
        load_spec,
        write_csv,
    )

    if args.samples < 2:
        raise ValueError(f"--samples must be >= 2, got {args.samples}")
    net, params, x, opts = load_spec(args.spec)
    names = opts["estimators"] or list(ESTIMATORS)
    unknown = [n for n in names if n not in ESTIMATORS]
    if unknown:
        raise ValueError(f"spec field 'estimators': unknown {unknown}; valid: {', '.join(ESTIMATORS)}")
    value, grad = exact_value_and_grad(net, params, x)
    print(f"{net.kind} network, sizes {net.sizes}, K = {net.n_spikes} spike variables")
    print(f"exact E[L] = {float(value):.10g}")
    for name, g in zip(coordinate_names(grad), flatten(grad), strict=True):
        print(f"  dE[L]/dW{name} = {g:+.6g}")
    rows = compare_estimators(
        jax.random.key(args.seed),
        net,
        params,
        x,
        names,
        args.samples,
        reference=grad,
        n_flips=opts["n_flips"],
    )
    print(format_table(rows))
    if args.json:
        out = {
            "spec": args.spec,
            "K": net.n_spikes,
            "exact_value": value,
            "exact_grad": flatten(grad),
            "coordinates": coordinate_names(grad),
            "estimators": rows,
        }
        print(f"wrote {write_json(args.json, out)}")
    if args.csv:
        print(f"wrote {write_csv(rows, args.csv)}")
    return 0
