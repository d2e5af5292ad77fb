-- teamperm's tables, the same text on SQLite and PostgreSQL. Keys are
-- teamperm IDs in their JSON form (42, "abc", {"uuid":"..."}), so that
-- integer, text and UUID keys keep their identity exactly.

-- An organisation: its plan, the revision of the plan (bumped by every
-- plan change: teamperm.Organization.Revision) and the sequence number of
-- its last change log entry.
CREATE TABLE teamperm_organizations (
	org      TEXT PRIMARY KEY,
	plan     TEXT NOT NULL CHECK (plan IN ('free', 'starter', 'pro')),
	revision BIGINT NOT NULL,
	log_seq  BIGINT NOT NULL
);

-- A member's stored settings in their strict JSON form; revision mirrors
-- the settings' own revision, for the compare-and-swap of every update.
CREATE TABLE teamperm_members (
	org      TEXT NOT NULL REFERENCES teamperm_organizations (org),
	member   TEXT NOT NULL,
	settings TEXT NOT NULL,
	revision BIGINT NOT NULL,
	PRIMARY KEY (org, member)
);

-- The change log, append-only: one entry per accepted change, numbered
-- per organisation in commit order. kind says what changed:
--   organization  the organisation was created (after: its plan)
--   plan          its plan changed (before, after: plans)
--   member        a member was added (after: settings)
--   edits         a batch of edits (edits: their JSON; before, after:
--                 settings)
-- revision is the revision after the change: the organisation's for
-- organization and plan, the member's settings' for member and edits.
CREATE TABLE teamperm_changes (
	org      TEXT NOT NULL REFERENCES teamperm_organizations (org),
	seq      BIGINT NOT NULL,
	kind     TEXT NOT NULL CHECK (kind IN ('organization', 'plan', 'member', 'edits')),
	member   TEXT,
	actor    TEXT,
	at       TEXT NOT NULL,
	revision BIGINT NOT NULL,
	edits    TEXT,
	before   TEXT,
	after    TEXT NOT NULL,
	PRIMARY KEY (org, seq)
);
