"""The training family's public surface stays small (issue 18): few names, few parameters per
function (settings in frozen configs, checked when made), the PRNG key always first."""

import dataclasses
import inspect

import pytest

import analysis.training as training
from analysis.training import RunFolder, tasks

#: fit(loss_fn, params, data, cfg, *, evaluate, folder, progress): the loop's one extra
MAX_PARAMS = {"fit": 7}


def _public(module):
    return {name: getattr(module, name) for name in module.__all__ if name != "tasks"}


def test_the_public_surface_is_small():
    assert len(training.__all__) <= 26  # 25 + nir_alignment (issue 20)
    assert len(tasks.__all__) <= 11  # 10 + from_tonic (issue 20)


@pytest.mark.parametrize("module", [training, tasks], ids=["training", "tasks"])
def test_public_functions_take_few_parameters_and_the_key_first(module):
    for name, obj in _public(module).items():
        if not inspect.isfunction(obj):
            continue
        params = list(inspect.signature(obj).parameters)
        assert len(params) <= MAX_PARAMS.get(name, 6), (name, params)
        if "key" in params:
            assert params[0] == "key", (name, params)
        assert "seed" not in params, name  # a seed lives in the run's config


@pytest.mark.parametrize("module", [training, tasks], ids=["training", "tasks"])
def test_public_configs_are_frozen_dataclasses(module):
    for name, obj in _public(module).items():
        if inspect.isclass(obj) and dataclasses.is_dataclass(obj):
            assert obj.__dataclass_params__.frozen, name  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "kw, exc, match",
    [
        (dict(out_dir="x", resume=True, force=True), ValueError, "resume and force exclude each other"),
        (dict(out_dir=None, resume=True), ValueError, "resume=True needs out_dir"),
        (dict(out_dir=None, save_every=2), ValueError, "save_every needs out_dir"),
        (dict(out_dir=None), ValueError, "out_dir must be a folder path"),
        (dict(out_dir=3), TypeError, "out_dir must be a path"),
        (dict(out_dir="x", resume=1), TypeError, "resume must be True or False"),
        (dict(out_dir="x", save_every=0), ValueError, "save_every must be a positive integer"),
        (dict(out_dir="x", run_info=[1]), TypeError, "run_info must be a dict or None"),
    ],
)
def test_run_folder_names_the_bad_field(kw, exc, match):
    with pytest.raises(exc, match=match):
        RunFolder(**kw)


def test_configs_of_runs_and_alignment_name_the_bad_field():
    with pytest.raises(ValueError, match="unknown task 'mnist'"):
        training.RunConfig("mnist")
    with pytest.raises(ValueError, match="shd_path is used by the shd task only"):
        training.RunConfig("randman", shd_path="data/shd")
    with pytest.raises(ValueError, match="n_ref must be at least 20"):
        training.RunAlignmentConfig(n_ref=10)
    with pytest.raises(ValueError, match="batch must be a positive integer"):
        training.RunAlignmentConfig(batch=0)
    with pytest.raises(ValueError, match="n_channels must be a positive integer"):
        tasks.SHDConfig(n_channels=0)
    assert training.RunConfig("spike-train", seed=3).default_folder().name == "spike-train-stochastic-seed3"
