"""Searches stopped midway through the CLI (kill -9, SIGTERM, SIGHUP, SLURM's pre-emption) resume without losing a
finished trial (split from test_search_cli.py so that the two files run on two test workers)."""

import signal
import subprocess
import time
from pathlib import Path

import optuna
import pytest
from helpers import ROOT, run_cli, spawn_cli
from optuna.trial import TrialState
from searches import finished, runs_of, slow_search, stores

pytestmark = pytest.mark.slow
optuna.logging.set_verbosity(optuna.logging.WARNING)


def stop_midway(args, storage, sig):
    """Start the search ``args``, send ``sig`` once 6 trials finished; its exit code and standard error."""
    proc = spawn_cli(*args)
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None:
        _, done = finished(storage)
        if len(done) >= 6:
            break
        time.sleep(0.2)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    return proc.returncode, err


def test_killed_search_resumes_without_losing_finished_trials(tmp_path):
    uri, storage = stores(tmp_path)
    args = slow_search(uri, storage)
    stop_midway(args, storage, signal.SIGKILL)
    study, before = finished(storage)
    assert 6 <= len(before) < 40, "the search finished before it could be killed"
    kept = {t.number: t.value for t in before}

    res = run_cli(*args, "search.resume=true", cwd=ROOT)
    assert res.returncode == 0, res.stderr
    assert f"{len(before)} trial(s) already finished" in res.stdout
    study, after = finished(storage, study.study_name)
    assert len(after) == 40
    assert {t.number: t.value for t in after if t.number in kept} == kept  # nothing lost or redone
    _, (parent,), children = runs_of(uri, "ecommerce")
    assert parent.info.status == "FINISHED" and parent.data.tags["rfmlab.resumed"] == "true"
    assert sorted(int(c.data.tags["optuna.trial_number"]) for c in children) == sorted(t.number for t in after)


# SIGTERM (a scheduler, ``kill``, SLURM's pre-emption) and SIGHUP are handled like Ctrl-C: the run is marked KILLED
# with error.txt naming the signal, the trial in progress fails in the study, exit code 128 + the signal, and the
# search resumes without losing a finished trial.
@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_a_terminated_search_is_marked_killed_and_resumes(tmp_path, sig, code):
    uri, storage = stores(tmp_path)
    args = slow_search(uri, storage)
    returncode, err = stop_midway(args, storage, sig)
    assert returncode == code, err
    assert f"stopped by {sig.name}" in err and "Traceback" not in err
    study, before = finished(storage)
    assert 6 <= len(before) < 40, "the search finished before it could be stopped"
    assert not [t for t in study.get_trials(deepcopy=False) if t.state == TrialState.RUNNING]
    client, (parent,), _ = runs_of(uri, "ecommerce")
    assert parent.info.status == "KILLED" and parent.data.tags["rfmlab.error"].startswith(f"Terminated: {sig.name}")
    error = client.download_artifacts(parent.info.run_id, "error.txt", str(tmp_path))
    assert sig.name in Path(error).read_text()

    res = run_cli(*args, "search.resume=true", cwd=ROOT)
    assert res.returncode == 0, res.stderr
    study, after = finished(storage, study.study_name)
    assert len(after) == 40 and {t.number for t in before} <= {t.number for t in after}
    _, (parent,), _ = runs_of(uri, "ecommerce")
    assert parent.info.status == "FINISHED"


def test_slurm_preemption_sigterm_then_sigkill_leaves_a_resumable_study(tmp_path):
    """SLURM pre-empts a job with SIGTERM and SIGKILL after a grace period (KillWait; 1 s here), which may land while
    the process is still recording the stop. The study resumes to its n_trials and the trial the signals interrupted
    is never counted COMPLETE (failed by SIGTERM, or left RUNNING by SIGKILL and failed on resume)."""
    uri, storage = stores(tmp_path)
    args = slow_search(uri, storage, n_trials=12)
    proc = spawn_cli(*args)
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None and len(finished(storage)[1]) < 3:
        time.sleep(0.1)
    assert proc.poll() is None, proc.communicate()[1]
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=1.0)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    assert proc.returncode in (143, -signal.SIGKILL), proc.stderr.read()
    study, before = finished(storage)
    assert 3 <= len(before) < 12, "the search finished before it could be pre-empted"
    stopped = {t.number for t in study.get_trials(deepcopy=False) if t.state in (TrialState.RUNNING, TrialState.FAIL)}

    res = run_cli(*args, "search.resume=true", cwd=ROOT)
    assert res.returncode == 0, res.stderr
    study, after = finished(storage, study.study_name)
    assert len(after) == 12 and {t.number for t in before} <= {t.number for t in after}
    states = {t.number: t.state for t in study.get_trials(deepcopy=False)}
    assert TrialState.RUNNING not in states.values()
    assert all(states[n] == TrialState.FAIL for n in stopped)
    _, (parent,), _ = runs_of(uri, "ecommerce")
    assert parent.info.status == "FINISHED" and parent.data.tags["rfmlab.resumed"] == "true"
