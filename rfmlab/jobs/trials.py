"""Running a search's trials: the Optuna loop, local worker processes, the progress bar, and one MLflow
child run per finished trial (batch-logged in the background, reconciled at the end)."""

from __future__ import annotations

import math
from collections import Counter

from rfmlab import interrupts, search
from rfmlab.jobs import context
from rfmlab.jobs.settings import Settings
from rfmlab.mlflow_edge import child_runs
from rfmlab.report import console
from rfmlab.search import studies


class TrialLogger:
    """Logs each finished trial as a child run of the search's parent run (batch-logged, no figures).

    An Optuna callback: it runs once the study has recorded the trial's final state, so a process killed
    mid-trial leaves no child run for a trial that never finished (that trial is failed on the next open)."""

    def __init__(self, uri: str, *, experiment_id: str, parent_run_id: str, tags: dict, writer=None):
        self.uri, self.experiment_id, self.parent = uri, experiment_id, parent_run_id
        self.tags = {**tags, "rfmlab.worker": studies.worker_id()}
        self.write = writer.submit if writer is not None else child_runs.log_child_run

    def __call__(self, study, trial) -> None:
        self.log(record_of(trial), trial=trial)

    def log(self, rec: search.TrialRecord, *, trial=None) -> None:
        state_tags = {
            "optuna.trial_number": str(rec.number),
            "optuna.state": rec.state,
            **({"optuna.prune_reason": rec.reason} if rec.state == "PRUNED" else {}),
            **({"optuna.fail_reason": rec.reason} if rec.state == "FAIL" else {}),
            **({"optuna.duplicate_of": str(rec.duplicate_of)} if rec.duplicate_of is not None else {}),
        }
        self.write(
            uri=self.uri,
            experiment_id=self.experiment_id,
            parent_run_id=self.parent,
            name=f"trial-{rec.number}",
            params=rec.params,
            metrics={**rec.metrics, "trial_seconds": rec.seconds},
            tags={**self.tags, **state_tags},
            failed=rec.state == "FAIL",
            **trial_times(trial),
        )


def trial_times(trial) -> dict[str, int]:
    """A trial's start and end in epoch milliseconds (the child run's start and end in the MLflow UI)."""
    out = {}
    for key, attr in (("start_ms", "datetime_start"), ("end_ms", "datetime_complete")):
        when = getattr(trial, attr, None)
        if when is not None:
            out[key] = int(when.timestamp() * 1000)
    return out


def optimize(s: Settings, *, prep, spec, space, study, on_trial, progress=None, share: int | None = None) -> None:
    """Run trials until the study holds ``spec.n_trials`` finished ones (or this process ran ``share``)."""
    import optuna

    remaining = spec.n_trials - studies.finished(study)
    if share is not None:
        remaining = min(remaining, share)
    if remaining <= 0:
        return
    algo, seed = s.algorithm.name, s.seed
    params = s.algorithm.params
    objective = search.Objective(
        prep, algorithm=algo, base_params=params, space=space, spec=spec, seed=seed, max_exact=s.algorithm.max_exact
    )
    callbacks = [on_trial, StopAt(spec.n_trials)]
    if progress is not None:
        callbacks.append(progress)
    # a failed trial is rfmlab's to report (its reason on the child run, the counts, the error if none is valid):
    # Optuna's own warning would print a traceback per trial
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    with interrupts.deferred():  # a stop signal never lands inside Optuna's own bookkeeping
        study.optimize(
            _allowing_stop(objective), n_trials=remaining, timeout=spec.timeout, callbacks=callbacks,
            catch=(search.FitFailed,),
        )  # fmt: skip


def _allowing_stop(objective):
    """The objective with stop signals raised at once inside it (Optuna fails the trial) and held elsewhere."""

    def run(trial):
        with interrupts.allowed():
            return objective(trial)

    return run


def worker_main(
    config: dict, *, study_name: str, parent_run_id: str, experiment_id: str, uri: str, worker: int, share: int
):
    """A spawned worker process: same data, same study, its own sampler seed (``config``: the resolved config,
    parsed here again since a spawned process starts empty)."""
    s = Settings.from_config(config)
    spec = s.search
    prep = context.prepare(s, handle=None, quiet=True)
    space = context.search_space(s, prep=prep)
    study, _ = studies.open_study(
        studies.study_base_name(s.raw), spec=spec, space=space, worker=worker, name=study_name
    )
    with child_runs.ChildRunWriter() as writer:
        logger = TrialLogger(
            uri, experiment_id=experiment_id, parent_run_id=parent_run_id, tags=context.tags(s), writer=writer
        )
        optimize(s, prep=prep, spec=spec, space=space, study=study, on_trial=logger, share=share)


class StopAt:
    """Stops a process's optimize loop once the study (all processes) holds ``n`` finished trials."""

    def __init__(self, n: int):
        self.n = n

    def __call__(self, study, trial) -> None:
        interrupts.check()  # between trials: a held stop signal ends the search here
        if studies.finished(study) >= self.n:
            study.stop()


class Progress:
    """rich progress bar over the study's finished trials (all workers), with the best value so far."""

    def __init__(self, spec, *, study, total: int | None = None):
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as Bar

        self.spec = spec
        self.total = total or spec.n_trials
        self.bar = Bar(
            TextColumn("  [bold]search[/]"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[best]}"),
            TimeElapsedColumn(),
            console=console.console,
            transient=False,
            disable=console.mute_bars(),
        )
        self.task = self.bar.add_task("search", total=self.total, best="")
        self.update(study)

    def update(self, study) -> None:
        if self.spec.multi:
            front = studies.pareto_front(study)
            txt = f"Pareto front: {len(front)} trial(s)" if front else "no valid trial yet"
        else:
            best = studies.best_trial(study)
            txt = f"best {self.spec.metric} {best.value:.4f} (trial {best.number})" if best else "no valid trial yet"
        self.bar.update(self.task, completed=min(studies.finished(study), self.total), best=txt)

    def __call__(self, study, trial) -> None:
        self.update(study)


def record_of(t) -> search.TrialRecord:
    """The ``TrialRecord`` of a finished Optuna trial, from what the objective stored on it."""
    metrics = {k: (math.nan if v is None else v) for k, v in (t.user_attrs.get("metrics") or {}).items()}
    if "inertia" in t.user_attrs:
        metrics["inertia"] = t.user_attrs["inertia"]
    reason = t.user_attrs.get("prune_reason") or t.user_attrs.get("fail_reason")
    seconds = t.duration.total_seconds() if t.duration else 0.0
    return search.TrialRecord(
        number=t.number,
        params=t.params,
        metrics=metrics,
        state=t.state.name,
        reason=reason,
        duplicate_of=t.user_attrs.get("duplicate_of"),
        seconds=seconds,
    )


def backfill_children(study, *, logger: TrialLogger, grace_s: float = 60.0) -> int:
    """Write a child run for every finished trial that has none: this process's lost writes, and the trials of
    processes that died (a trial records its ``worker``). A live process sharing the study writes its own, so
    its trials are left to it (on another host, for ``grace_s`` after the trial finished)."""
    import datetime as dt

    have = child_runs.child_trial_numbers(logger.uri, logger.experiment_id, logger.parent)
    now = dt.datetime.now()
    mine = studies.worker_id()
    written = 0
    for t in studies.finished_trials(study):  # not the trials failed because their process died
        if t.number in have:
            continue
        worker = t.user_attrs.get("worker")
        old = t.datetime_complete is None or (now - t.datetime_complete).total_seconds() > grace_s
        if studies.worker_alive(worker, old):
            continue  # its live process writes it
        if worker != mine and not studies.claim(study, f"child-{t.number}"):
            continue  # another process that outlived the dead one writes it
        logger.log(record_of(t), trial=t)
        written += 1
    return written


def study_counts(study) -> dict[str, int]:
    c = Counter(t.state.name for t in study.get_trials(deepcopy=False))
    return {"n_trials_complete": c["COMPLETE"], "n_trials_pruned": c["PRUNED"], "n_trials_failed": c["FAIL"]}
