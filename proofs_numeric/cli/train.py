"""``sgtheory train``: the paper's spike-train matching and classification experiments.

Writes into ``--out`` (default ``out/train/<task>-<method>-seed<seed>``): metrics.jsonl and
metrics.csv (one row per epoch), checkpoint.npz (resumable with ``--resume``) and
summary.json (the last row, with the provenance ``meta`` block); with ``--save-every K`` also
checkpoints/epoch_XXXX.npz (params of epoch 0, every K-th and the last epoch). Refuses a folder that
already holds a run unless ``--resume`` (continue it) or ``--force`` (replace it), and
``--resume`` without a checkpoint; refuses a folder another ``train`` is writing (naming its
pid). Stops at the first epoch whose loss or parameters are not finite. Runs in float32 (the
CLI leaves x64 off for ``train``).
``classify --data FILE`` trains on your own data: an .npz or HDF5 file with arrays ``x``
[N, T, C] (spikes in T bins of ``--dt`` seconds, default 1 ms) and integer labels ``y`` [N],
optionally ``x_test``, ``y_test`` for the final test; 10 % of ``x`` (random, from ``--seed``)
validate (:func:`analysis.training.tasks._labelled.load_labelled` states the format).
The work is :func:`analysis.training.run_experiment`; this module only parses and prints.
"""

from __future__ import annotations

X64 = False  # float32 training (x64 stays off)
MALLOC_TUNED = True
HELP = "train a spiking network: spike-train matching, randman, SHD or your own data (classify)"
# analysis.training._run.TASKS, spelled out so that parsing imports no JAX (tests/cli/test_main.py
# checks that the two agree)
TASKS = ("spike-train", "randman", "shd", "classify")


def add_arguments(p) -> None:
    p.add_argument("task", choices=TASKS, help="experiment to run")
    p.add_argument(
        "--method",
        default="stochastic",
        help="deterministic | stochastic | multilayer_spiker (default stochastic)",
    )
    p.add_argument(
        "--profile",
        choices=("quick", "full", "paper"),
        default="quick",
        help="problem and network size preset (default quick; paper: the published "
        "randman / SHD experiment, conv LIF layers, 200 epochs: a GPU run)",
    )
    p.add_argument("--epochs", type=int, default=None, help="override the preset's epochs")
    p.add_argument("--lr", type=float, default=None, help="override the learning rate")
    p.add_argument("--optimizer", default=None, help="adam | smorms3 | sgd (override)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None, help="output folder (default out/train/<task>-<method>-seed<seed>)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint")
    p.add_argument(
        "--force", action="store_true", help="replace a run already in --out (its history is overwritten)"
    )
    p.add_argument(
        "--image",
        default=None,
        help="spike-train: target image file (default: matplotlib's sample photograph)",
    )
    p.add_argument(
        "--shd-path",
        default=None,
        help="shd: folder with shd_train.h5 and shd_test.h5 (default data/shd)",
    )
    p.add_argument(
        "--data",
        default=None,
        metavar="FILE",
        help="classify: .npz or HDF5 file with arrays x [N, T, C] (spikes), y [N] (integer labels "
        ">= 0), optionally x_test, y_test; 10%% of x (random, from --seed) validate",
    )
    p.add_argument(
        "--dt",
        type=float,
        default=None,
        help="classify: seconds per time bin of the data (default 1e-3); sets the network's step",
    )
    p.add_argument(
        "--save-every",
        type=int,
        default=None,
        metavar="K",
        help="also keep the params of epoch 0, every K-th and the last epoch in <out>/checkpoints/ "
        "(for sgtheory align --run)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="print the whole configuration (the paper profile with the source of every value), "
        "the layer sizes, the parameter count and the memory of one training step, and exit",
    )


#: optional packages whose absence is a one-line error (the message names the extra)
_EXTRAS = ("h5py",)


def run(args) -> int:
    import sys

    try:
        return _run(args)
    except ImportError as exc:
        if exc.name not in _EXTRAS:
            raise
        print(f"sgtheory train: error: {exc}", file=sys.stderr)
        return 2


def _run(args) -> int:
    from analysis import training
    from analysis.runtime._paths import check_output_dir
    from analysis.training._run import check_experiment, default_run_folder

    out = args.out if args.out is not None else default_run_folder(args.task, args.method, args.seed)
    config = training.RunConfig(
        args.task,
        args.method,
        args.profile,
        seed=args.seed,
        epochs=args.epochs,
        learning_rate=args.lr,
        optimizer=args.optimizer,
        image=args.image,
        shd_path=args.shd_path,
        data_path=args.data,
        dt=args.dt,
    )
    if args.dry_run:
        from analysis.training._plan import experiment_plan, format_plan

        print(format_plan(experiment_plan(config)))
        return 0
    check_output_dir(out, "--out")
    folder = training.RunFolder(out, resume=args.resume, force=args.force, save_every=args.save_every)
    # every argument, data path and the run folder checked before the memory estimates compile
    check_experiment(config, folder)
    if args.profile == "paper" and args.task == "shd":
        _print_memory(args.method)
    res = training.run_experiment(config, folder, progress=not args.quiet)
    print("  ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in res.final.items()))
    if res.test is not None:
        print("test: " + "  ".join(f"{k}={v:.4g}" for k, v in res.test.items()))
    if res.variability is not None:
        v = res.variability
        fano = ", ".join(f"{f:.3g}" for f in v["fano"])
        rate = ", ".join(f"{r:.3g}" for r in v["rate_hz"])
        print(f"variability (one held-out sample, 400 trials): Fano per layer {fano}; rates {rate} Hz")
    print(f"wrote {res.out_dir}")
    return 0


def _print_memory(method: str) -> None:
    """The SHD paper network's training-step memory at batch 400 (XLA's buffer assignment)."""
    from analysis.training import shd_preset
    from analysis.training._classifier import training_step_memory

    _, _, run = shd_preset("paper")
    for ck in (False, True):
        mem = training_step_memory(run, method, 700, 349, 20, checkpoint=ck)
        name = "checkpointed" if ck else "layer-wise"
        gib = mem["temp_gib"]
        print(f"memory of one training step ({name} simulator, batch {run.batch_size}): {gib:.2f} GiB")
