"""Opening the index: two threads of a brand-new agent opening the same new file at once."""

import sqlite3
import threading
import time

from vlagent.index.db import connect


def test_a_second_opener_waits_for_the_first_to_switch_the_new_file_to_wal(tmp_path):
    path = tmp_path / "index.db"
    first = sqlite3.connect(str(path), isolation_level=None)  # a new file, still in rollback-journal mode
    first.execute("BEGIN IMMEDIATE")
    first.execute("CREATE TABLE busy (x)")
    opened: list = []
    errors: list = []

    def second():
        try:
            db = connect(path)
            opened.append((db.conn.execute("PRAGMA journal_mode").fetchone()[0], "jobs" in db.table_names()))
        except Exception as e:  # noqa: BLE001 - the assertion below says what it was
            errors.append(e)

    t = threading.Thread(target=second)
    t.start()
    time.sleep(0.3)  # the second opener is now waiting on the first one's lock
    assert t.is_alive() and not errors
    first.execute("COMMIT")
    first.close()
    t.join(15)
    assert errors == [] and opened == [("wal", True)]
