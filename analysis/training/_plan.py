"""What an experiment would run, without running it: the configuration (with the sources of
the paper profile's values), the network's layer sizes, its parameter count and the memory
of one training step (``sgtheory train ... --dry-run``)."""

from __future__ import annotations

import dataclasses
from typing import Any, cast

from analysis.snn import parameter_count
from analysis.training import _presets
from analysis.training._classifier_network import classifier_network
from analysis.training._run import RunConfig
from analysis.training._spike_train_run import spike_train_network


def experiment_plan(config: RunConfig, *, memory: bool = True) -> dict:
    """The plan of ``config``: {"task", "method", "profile", "run" (the run's settings),
    "data" (data set settings), "sources" ([(field, value, source)] of the paper profile,
    else []), "layer_sizes", "n_params", "n_steps", "memory" ({"temp_gib", "argument_gib"}
    of one training step at the run's batch as XLA's buffer assignment reports it, without
    running; None with ``memory=False`` or for the spike-train task)}. Reads no data files
    (the input sizes of SHD are fixed: 700 channels, 20 classes) except the classify task's
    file (its sizes and mean rate, read and checked)."""
    if not isinstance(config, RunConfig):
        raise TypeError(f"config must be a RunConfig, got {type(config).__name__}")
    over = config.overrides()
    plan: dict[str, Any] = {"task": config.task, "method": config.method, "profile": config.profile}
    if config.task == "spike-train":
        st = _presets.spike_train_preset(config.profile, **over)
        cfg = spike_train_network(st)
        plan |= {"run": dataclasses.asdict(st), "data": {}, "sources": [], "n_steps": st.n_steps}
        mem = None
    else:
        if config.task == "randman":
            data_cfg, run = _presets.randman_preset(config.profile, config.method, **over)
            data = dataclasses.asdict(data_cfg)
            data["data_seed"] = _presets.randman_data_seed(config.profile, config.seed)
            n_in, n_classes, n_steps = data_cfg.n_units, data_cfg.n_classes, data_cfg.n_steps
        elif config.task == "classify":
            from analysis.training._run import _classify_data

            cdata, test, run = _classify_data(config, over)
            n_steps, n_in, n_classes = cdata.train[0].shape[1], cdata.n_inputs, cast(int, cdata.n_classes)
            data = {
                "file": str(config.data_path),
                "n_steps": n_steps,
                "dt": run.dt,
                "channels": n_in,
                "classes": n_classes,
                "train_samples": len(cdata.train[1]),
                "valid_samples": len(cdata.valid[1]),
                "test_samples": 0 if test is None else len(test[1]),
            }
        else:
            from analysis.training.tasks import N_CLASSES
            from analysis.training.tasks._shd import N_CHANNELS

            n_tr, n_te, run = _presets.shd_preset(config.profile, config.method, **over)
            n_steps = _presets.shd_steps(config.profile)
            data = {
                "n_steps": n_steps,
                "dt": run.dt,
                "train_samples": n_tr or "all",
                "test_samples": n_te or "all",
            }
            n_in, n_classes = N_CHANNELS, N_CLASSES
        cfg = classifier_network(run, n_in, n_classes)
        sources = _presets.paper_table(config.task, config.method) if config.profile == "paper" else []
        plan |= {"run": dataclasses.asdict(run), "data": data, "sources": sources, "n_steps": n_steps}
        mem = None
        if memory:
            from analysis.training._classifier import training_step_memory

            mem = training_step_memory(run, config.method, n_in, n_steps, n_classes)
    plan["layer_sizes"] = tuple(cfg.layer_sizes) + (cfg.n_out,)
    plan["n_params"] = parameter_count(cfg)
    plan["memory"] = mem
    return plan


def format_plan(plan: dict) -> str:
    """The plan as the lines ``--dry-run`` prints."""
    lines = [f"{plan['task']} / {plan['method']} / profile {plan['profile']}"]
    lines.append("run:")
    lines += [f"  {k} = {v!r}" for k, v in plan["run"].items()]
    if plan["data"]:
        lines.append("data:")
        lines += [f"  {k} = {v!r}" for k, v in plan["data"].items()]
    if plan["sources"]:
        code = ", ".join(f"{k} {v[:7]}" for k, v in _presets.AUTHORS_CODE.items())
        lines.append(f"paper profile, value by value from the authors' code ({code}):")
        lines += [f"  {k} = {v!r}  <- {src}" for k, v, src in plan["sources"]]
        lines.append("known differences from the authors' code:")
        lines += [f"  - {d}" for d in _presets.PAPER_DIFFERENCES]
    lines.append(f"layer sizes (neurons; hidden..., readout): {plan['layer_sizes']}")
    lines.append(f"time steps: {plan['n_steps']}")
    lines.append(f"parameters: {plan['n_params']:,}")
    mem = plan["memory"]
    if mem is not None:
        lines.append(
            f"memory of one training step (XLA buffer assignment, this backend): "
            f"{mem['temp_gib']:.3f} GiB temporaries + {mem['argument_gib']:.3f} GiB arguments"
        )
    return "\n".join(lines)
