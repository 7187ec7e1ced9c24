"""Studies: where they persist and how processes share them (no MLflow, no Hydra).

- Storage: ``search.storage``; default Optuna's journal file ``<cwd>/mlruns/optuna.journal`` (3 ms of storage a
  trial where SQLite took 28 ms), or any RDB URL (PostgreSQL for several machines).
- Naming, samplers, opening (create or load; trials of dead processes failed on open).
- Sharing: exactly one process creates a study's parent run (``claim_parent`` / ``wait_parent``); a trial records
  its ``worker`` (host:pid) so the others can tell whose child run is missing; ``finished`` counts what counts
  towards ``search.n_trials``.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from datetime import datetime
from pathlib import Path

from rfmlab.errors import ConfigError, RfmlabError
from rfmlab.search._space import grid
from rfmlab.search._spec import SearchSpec


def default_storage(root: str | Path | None = None) -> str:
    root = Path(root or Path.cwd()).resolve()
    (root / "mlruns").mkdir(parents=True, exist_ok=True)
    return str(root / "mlruns" / "optuna.journal")


def is_journal(url: str) -> bool:
    """A journal file (``*.journal``, or ``journal:PATH``) rather than a database URL."""
    return url.startswith("journal:") or url.endswith(".journal")


def study_base_name(cfg: dict) -> str:
    """Readable prefix + hash of everything that changes what a trial means."""
    keyed = {k: cfg.get(k) for k in ("dataset", "features", "algorithm", "evaluation", "seed")}
    s = cfg["search"]
    keyed["search"] = {k: s.get(k) for k in ("metric", "sampler", "max_noise", "min_cluster_share", "seed")}
    objectives = list(s.get("objectives") or [])
    if len(objectives) > 1:  # a multi-objective study is another study (one objective is the metric)
        keyed["search"]["objectives"] = objectives
    digest = hashlib.sha256(json.dumps(keyed, sort_keys=True, default=str).encode()).hexdigest()[:8]
    what = "+".join(objectives) if len(objectives) > 1 else (objectives or [s["metric"]])[0]
    return f"{cfg['dataset']['name']}.{cfg['features']['name']}.{cfg['algorithm']['name']}.{what}-{digest}"


def make_sampler(spec: SearchSpec, *, space: dict, worker: int = 0):
    import optuna

    seed = None if spec.seed is None else int(spec.seed) + worker
    if spec.sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if spec.sampler == "grid":
        return optuna.samplers.GridSampler(grid(space, spec.grid_points), seed=seed)
    return optuna.samplers.TPESampler(seed=seed)


def storage_for(url: str):
    import optuna

    if is_journal(url):
        from optuna.storages.journal import JournalFileBackend

        path = Path(url.removeprefix("journal:")).expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
        check_journal(path)
        return optuna.storages.JournalStorage(JournalFileBackend(str(path)))
    if url.startswith(("sqlite", "postgresql", "mysql")):
        kwargs = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else {}
        from rfmlab.locks import sqlite_init_lock

        with warnings.catch_warnings(), sqlite_init_lock(url):
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.storages.RDBStorage(url, engine_kwargs=kwargs, heartbeat_interval=10, grace_period=30)
    return url


def check_journal(path: Path) -> None:
    """Refuse a journal file with a line that is not a JSON record (garbage appended, a write cut short), naming
    the line: Optuna reads past one broken last line but raises a bare ValueError once anything follows it. Read
    under Optuna's own lock, so a record another process is writing is never mistaken for a broken one."""
    if not path.is_file():
        return
    from optuna.storages.journal import JournalFileSymlinkLock

    lock = JournalFileSymlinkLock(str(path))
    lock.acquire()
    try:
        with path.open("rb") as f:
            for number, line in enumerate(f, start=1):
                try:
                    ok = line.endswith(b"\n") and isinstance(json.loads(line), dict)
                except ValueError:  # JSONDecodeError, UnicodeDecodeError
                    ok = False
                if not ok:
                    raise ConfigError(
                        f"the Optuna journal {path.absolute()} is corrupt at line {number} (not JSON); restore it, "
                        "remove the broken tail, or set search.storage to another file"
                    )
    finally:
        lock.release()


def open_study(base_name: str, *, spec: SearchSpec, space: dict, worker: int = 0, name: str | None = None):
    """Create or load the study this config searches (``base_name``: ``study_base_name`` of the config, the prefix
    of its studies' names). Returns (study, created)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage_url = spec.storage or default_storage()
    storage = storage_for(storage_url)
    if name is None:
        name = spec.study_name
    if name is None:
        base = base_name
        if spec.resume:
            names = [s.study_name for s in optuna.get_all_study_summaries(storage) if s.study_name.startswith(base)]
            if not names:
                raise RfmlabError(
                    f"nothing to resume: no study for this config in {storage_url}; run without search.resume=true"
                )
            name = sorted(names)[-1]
        else:
            name = f"{base}-{datetime.now():%Y%m%d-%H%M%S-%f}"
    existing = {s.study_name for s in optuna.get_all_study_summaries(storage)}
    try:
        study = optuna.create_study(
            storage=storage,
            study_name=name,
            directions=spec.directions,
            load_if_exists=True,
            sampler=make_sampler(spec, space=space, worker=worker),
        )
    except ValueError as e:  # direction mismatch on an existing study, or a journal broken meanwhile
        if is_journal(storage_url):
            check_journal(Path(storage_url.removeprefix("journal:")).expanduser())
        raise ConfigError(f"study {name!r} exists with another direction: {e}") from e
    if name in existing:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            optuna.storages.fail_stale_trials(study)  # RDB storages: trials whose heartbeat stopped
        fail_dead_trials(study)
    return study, name not in existing


PARENT_ATTR = "mlflow_parent_run_id"  # study user attr: the MLflow run every process of the study logs under
LOCK_PREFIX = "rfmlab-lock:"  # + what + ":" + study name: a study only one process can create
DEAD_ATTR = "rfmlab.dead_trial."  # + trial number, a study user attr: failed because its process died


def claim(study, what: str) -> bool:
    """True in exactly one of any number of processes sharing ``study`` for the same ``what``.

    The storage refuses a second study of the same name (a unique key in the database, a replayed log for a
    journal file), so this holds for processes started at the same instant and on other machines."""
    import optuna

    try:
        optuna.create_study(storage=study._storage, study_name=f"{LOCK_PREFIX}{what}:{study.study_name}")
    except optuna.exceptions.DuplicatedStudyError:
        return False
    return True


def claim_parent(study) -> bool:
    """True in the one process that creates the study's parent run; the others wait for its id
    (``wait_parent``)."""
    return claim(study, "parent")


def wait_parent(study, *, timeout: float = 120.0) -> str:
    """The parent run id the owning process stores on the study (see ``claim_parent``)."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        run_id = study._storage.get_study_user_attrs(study._study_id).get(PARENT_ATTR)
        if run_id:
            return run_id
        if time.monotonic() > deadline:
            raise RfmlabError(
                f"study {study.study_name!r} has no parent run after {timeout:.0f} s: the process that created it "
                "did not finish starting; start again, or use another search.study_name"
            )
        time.sleep(0.2)


def fail_dead_trials(study) -> int:
    """Mark FAIL the RUNNING trials of processes that died (their ``worker`` is gone): a killed process's
    trial is never counted as finished, and its parameters are tried again. Returns how many."""
    from optuna.trial import TrialState

    dead = [
        t
        for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
        if not worker_alive(t.user_attrs.get("worker"), grace_over=False)
    ]
    for t in dead:  # noted on the study, whose attrs every process reads fresh (storages cache finished trials)
        study.set_user_attr(f"{DEAD_ATTR}{t.number}", t.user_attrs.get("worker") or "?")
        study._storage.set_trial_state_values(t._trial_id, TrialState.FAIL)
    return len(dead)


def finished_trials(study) -> list:
    """Trials that count towards ``search.n_trials``: COMPLETE, PRUNED and FAIL, but not those failed because
    their process died (their parameters are simply tried again)."""
    from optuna.trial import TrialState

    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL))
    dead = {k for k in study.user_attrs if k.startswith(DEAD_ATTR)}
    return [t for t in done if f"{DEAD_ATTR}{t.number}" not in dead] if dead else done


def finished(study) -> int:
    return len(finished_trials(study))


def worker_id() -> str:
    """``host:pid`` of this process."""
    import os
    import socket

    return f"{socket.gethostname()}:{os.getpid()}"


def worker_alive(worker: str | None, grace_over: bool) -> bool:
    """Whether the process ``worker`` may still write a trial's child run: this process, or a live process on
    this host; for another host (whose processes cannot be seen) until ``grace_over``."""
    import os
    import socket

    host, _, pid = (worker or "").rpartition(":")
    if worker == worker_id():
        return False  # this process: its own writes are done when it backfills
    if host != socket.gethostname() or not pid.isdigit():
        return not grace_over
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def best_trial(study, *, spec: SearchSpec | None = None):
    """The best COMPLETE trial, or None when every trial was pruned or failed. A multi-objective study's is the
    Pareto-front trial ``spec.select`` chooses (``choose_from_front``)."""
    from optuna.trial import TrialState

    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if not done:
        return None
    if len(study.directions) > 1:
        return choose_from_front(study, spec=spec)[0]
    return study.best_trial


def pareto_front(study) -> list:
    """The study's non-dominated COMPLETE trials, by trial number (one per parameter set: a repeated set reuses
    its result, so only its first trial is kept)."""
    seen, out = set(), []
    for t in sorted(study.best_trials, key=lambda t: t.number):
        key = tuple(sorted(t.params.items()))
        if key not in seen:
            seen.add(key)
            out.append(t)
    return out


def choose_from_front(study, *, spec: SearchSpec | None):
    """(trial, reason) chosen from the Pareto front by ``spec.select`` (the knee without a spec)."""
    from rfmlab import evaluate
    from rfmlab.search._front import Select, choose

    names = spec.names if spec is not None else [f"objective {i}" for i in range(len(study.directions))]
    directions = [evaluate.DIRECTION.get(n, d.name.lower()) for n, d in zip(names, study.directions, strict=True)]
    trials = pareto_front(study)
    i, reason = choose(
        [t.values for t in trials],
        names=names,
        directions=directions,
        select=(spec.select if spec is not None else None) or Select(),
    )
    return trials[i], reason
