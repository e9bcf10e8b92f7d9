"""``sgtheory train``: the paper's spike-train matching and classification experiments.

Writes into ``--out`` (default ``out/train/<task>-<method>-seed<seed>``): metrics.jsonl and
metrics.csv (one row per epoch), checkpoint.npz (resumable with ``--resume``) and
summary.json (the last row). Runs in float32 (the CLI leaves x64 off for ``train``).
"""

from __future__ import annotations

X64 = False  # float32 training (x64 stays off)
MALLOC_TUNED = True
HELP = "train a spiking network: spike-train matching, randman or SHD classification"
TASKS = ("spike-train", "randman", "shd")


def add_arguments(p) -> None:
    p.add_argument("task", choices=TASKS, help="experiment to run")
    p.add_argument(
        "--method",
        default="stochastic",
        help="deterministic | stochastic | multilayer_spiker (default stochastic)",
    )
    p.add_argument(
        "--profile",
        choices=("quick", "full"),
        default="quick",
        help="problem and network size preset (default quick)",
    )
    p.add_argument("--epochs", type=int, default=None, help="override the preset's epochs")
    p.add_argument("--lr", type=float, default=None, help="override the learning rate")
    p.add_argument("--optimizer", default=None, help="adam | smorms3 | sgd (override)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None, help="output folder")
    p.add_argument("--resume", action="store_true", help="continue from the checkpoint in --out")
    p.add_argument(
        "--image",
        default=None,
        help="spike-train: target image file (default: matplotlib's sample photograph)",
    )
    p.add_argument(
        "--shd-path",
        default="data/shd",
        help="shd: folder with shd_train.h5 and shd_test.h5 (default data/shd)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _overrides(args) -> dict:
    out = {"seed": args.seed}
    for key, val in (("epochs", args.epochs), ("learning_rate", args.lr), ("optimizer", args.optimizer)):
        if val is not None:
            out[key] = val
    return out


def _run_task(args, out_dir):
    from analysis import training

    kw = dict(out_dir=out_dir, resume=args.resume, progress=not args.quiet)
    if args.task == "spike-train":
        extra = {"image": args.image} if args.image else {}
        run = training.spike_train_preset(args.profile, **_overrides(args), **extra)
        return training.train_spike_train(args.method, run, **kw)
    if args.task == "randman":
        import jax

        from analysis.training.tasks import train_valid_split

        data_cfg, run = training.randman_preset(args.profile, **_overrides(args))
        train, valid = train_valid_split(jax.random.key(args.seed), data_cfg)
        return training.train_classifier(args.method, train, valid, run, task_name="randman", **kw)
    import numpy as np

    from analysis.training.tasks import N_CLASSES, load_shd

    n_tr, n_te, run = training.shd_preset(args.profile, **_overrides(args))
    train = load_shd(args.shd_path, "train", max_samples=n_tr, dtype=np.uint8)
    valid = load_shd(args.shd_path, "test", max_samples=n_te, dtype=np.uint8)
    return training.train_classifier(
        args.method, train, valid, run, task_name="shd", n_classes=N_CLASSES, **kw
    )


def run(args) -> int:
    from pathlib import Path

    from analysis.runtime import write_json
    from analysis.snn import METHOD_NAMES

    if args.method not in METHOD_NAMES:
        raise ValueError(f"unknown --method {args.method!r}; valid: {', '.join(METHOD_NAMES)}")
    out_dir = Path(args.out or f"out/train/{args.task}-{args.method}-seed{args.seed}")
    res = _run_task(args, out_dir)
    last = res.history[-1]
    write_json(
        out_dir / "summary.json",
        {"task": args.task, "method": args.method, "profile": args.profile, "final": last},
    )
    print("  ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in last.items()))
    print(f"wrote {out_dir}")
    return 0
