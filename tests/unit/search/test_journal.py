"""A corrupt Optuna journal is named with its first broken line (Optuna's own ValueError read as a study "with another
direction"); an intact one, or one another process is appending to, opens as before."""

import optuna
import pytest
from optuna.storages.journal import JournalFileBackend

from rfmlab import search
from rfmlab.errors import ConfigError
from rfmlab.search import studies

optuna.logging.set_verbosity(optuna.logging.WARNING)
SPACE = {"n_clusters": {"type": "int", "low": 2, "high": 6}}


def a_journal(path):
    storage = optuna.storages.JournalStorage(JournalFileBackend(str(path)))
    optuna.create_study(storage=storage, study_name="earlier").optimize(lambda t: t.suggest_float("x", 0, 1), 3)
    return len(path.read_bytes().splitlines())


@pytest.mark.parametrize(
    "garbage",
    [b"not json\n", b'{"op_code": 0, "cut short', b"\xff\xfe\n", b"\n"],
    ids=["a line", "a write cut short", "not text", "a blank line"],
)
def test_a_journal_with_a_broken_line_is_named_with_it(tmp_path, garbage):
    journal = tmp_path / "optuna.journal"
    n = a_journal(journal)
    with journal.open("ab") as f:
        f.write(garbage)
    with pytest.raises(ConfigError) as info:
        studies.open_study("base", spec=search.SearchSpec(storage=str(journal), n_trials=2), space=SPACE)
    assert str(info.value) == (
        f"the Optuna journal {journal} is corrupt at line {n + 1} (not JSON); restore it, remove the broken tail, "
        "or set search.storage to another file"
    )


def test_a_broken_line_in_the_middle_is_found_and_the_journal_left_as_it_is(tmp_path):
    journal = tmp_path / "optuna.journal"
    a_journal(journal)
    lines = journal.read_bytes().splitlines(keepends=True)
    journal.write_bytes(b"".join([*lines[:4], b"\x00\x00garbage\n", *lines[4:]]))
    before = journal.read_bytes()
    with pytest.raises(ConfigError, match="is corrupt at line 5 "):
        studies.storage_for(str(journal))
    assert journal.read_bytes() == before
    assert not (tmp_path / "optuna.journal.lock").exists()  # Optuna's lock released


def test_an_intact_journal_opens_and_its_study_is_found(tmp_path):
    journal = tmp_path / "optuna.journal"
    a_journal(journal)
    study, created = studies.open_study(
        "base", spec=search.SearchSpec(storage=str(journal), study_name="earlier"), space=SPACE
    )
    assert not created and len(study.trials) == 3
