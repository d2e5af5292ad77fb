-- The change log is append-only in the database itself, not only by the
-- store's convention: an UPDATE or DELETE of an entry, by the store or by
-- anything else with access to the database, fails.
CREATE TRIGGER teamperm_changes_no_update BEFORE UPDATE ON teamperm_changes
BEGIN SELECT RAISE(ABORT, 'teamperm_changes is append-only'); END;

CREATE TRIGGER teamperm_changes_no_delete BEFORE DELETE ON teamperm_changes
BEGIN SELECT RAISE(ABORT, 'teamperm_changes is append-only'); END;
