-- The change log is append-only in the database itself, not only by the
-- store's convention: an UPDATE or DELETE of an entry, and an INSERT that
-- would replace one (INSERT OR REPLACE, REPLACE, whose conflict
-- resolution deletes the old row without firing DELETE triggers), fail,
-- whoever sends them. SQLite has no privileges: whoever can write the
-- file can drop these triggers too; they stop mistakes and careless
-- code, not the owner of the file.
CREATE TRIGGER teamperm_changes_no_update BEFORE UPDATE ON teamperm_changes
BEGIN SELECT RAISE(ABORT, 'teamperm_changes is append-only'); END;

CREATE TRIGGER teamperm_changes_no_delete BEFORE DELETE ON teamperm_changes
BEGIN SELECT RAISE(ABORT, 'teamperm_changes is append-only'); END;

CREATE TRIGGER teamperm_changes_no_replace BEFORE INSERT ON teamperm_changes
WHEN EXISTS (SELECT 1 FROM teamperm_changes WHERE org = NEW.org AND seq = NEW.seq)
BEGIN SELECT RAISE(ABORT, 'teamperm_changes is append-only'); END;
