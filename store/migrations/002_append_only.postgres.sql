-- The change log is append-only in the database itself, not only by the
-- store's convention: an UPDATE (an upsert's DO UPDATE included), DELETE
-- or TRUNCATE of entries fails, whoever sends it, unless they hold the
-- rights to drop these triggers (the table's owner does): they stop
-- mistakes and careless code, not the database's owner.
CREATE FUNCTION teamperm_changes_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'teamperm_changes is append-only'; END $$;

CREATE TRIGGER teamperm_changes_no_change BEFORE UPDATE OR DELETE ON teamperm_changes
FOR EACH ROW EXECUTE FUNCTION teamperm_changes_append_only();

CREATE TRIGGER teamperm_changes_no_truncate BEFORE TRUNCATE ON teamperm_changes
FOR EACH STATEMENT EXECUTE FUNCTION teamperm_changes_append_only();
