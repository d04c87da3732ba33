import GRDB

/// The schema as named, append-only migrations: never edit one that has shipped, add a new one.
enum Migrations {
    /// The newest migration: a read-only opener needs the schema to be at least this.
    static let latest = "2026-12-02-scale"

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("2026-11-22-foundation") { db in
            try db.execute(sql: """
                CREATE TABLE mailbox_cursor (
                    mailbox TEXT PRIMARY KEY NOT NULL,
                    uid_validity INTEGER NOT NULL,
                    last_uid INTEGER NOT NULL,
                    baseline_uid INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL
                );
                CREATE TABLE message (
                    id INTEGER PRIMARY KEY,
                    dedupe_key TEXT NOT NULL UNIQUE,
                    message_id TEXT,
                    mailbox TEXT NOT NULL,
                    size INTEGER NOT NULL,
                    truncated INTEGER NOT NULL DEFAULT 0,
                    fetch_error TEXT,
                    pre_baseline INTEGER NOT NULL,
                    received_at INTEGER NOT NULL,
                    fetched_at INTEGER NOT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    processed_at INTEGER
                );
                -- The raw bytes live apart from the message row, so that state updates never rewrite them.
                CREATE TABLE message_raw (
                    message_row INTEGER PRIMARY KEY REFERENCES message(id),
                    raw BLOB NOT NULL
                );
                CREATE INDEX message_unprocessed ON message(id) WHERE processed_at IS NULL;
                CREATE INDEX message_message_id ON message(message_id);
                CREATE TABLE message_location (
                    mailbox TEXT NOT NULL,
                    uid_validity INTEGER NOT NULL,
                    uid INTEGER NOT NULL,
                    message_row INTEGER NOT NULL REFERENCES message(id),
                    server_action TEXT NOT NULL DEFAULT 'pending',
                    recorded_at INTEGER NOT NULL,
                    PRIMARY KEY (mailbox, uid_validity, uid)
                ) WITHOUT ROWID;
                CREATE INDEX location_pending ON message_location(mailbox, uid_validity) WHERE server_action = 'pending';
                CREATE TABLE fetch_failure (
                    mailbox TEXT NOT NULL,
                    uid_validity INTEGER NOT NULL,
                    uid INTEGER NOT NULL,
                    failures INTEGER NOT NULL,
                    last_error TEXT NOT NULL,
                    PRIMARY KEY (mailbox, uid_validity, uid)
                ) WITHOUT ROWID;
                CREATE TABLE ticket (
                    id INTEGER PRIMARY KEY,
                    message_row INTEGER NOT NULL UNIQUE REFERENCES message(id),
                    mailbox TEXT NOT NULL,
                    received_at INTEGER NOT NULL,
                    from_address TEXT NOT NULL,
                    from_name TEXT,
                    subject TEXT NOT NULL,
                    state TEXT NOT NULL,
                    auto_eligible INTEGER NOT NULL,
                    warnings TEXT NOT NULL DEFAULT '[]',
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL
                );
                CREATE INDEX ticket_state ON ticket(state, received_at);
                CREATE TABLE event (
                    id INTEGER PRIMARY KEY,
                    at INTEGER NOT NULL,
                    kind TEXT NOT NULL,
                    actor TEXT NOT NULL DEFAULT 'daemon',
                    ticket_id INTEGER REFERENCES ticket(id),
                    message_row INTEGER REFERENCES message(id),
                    mailbox TEXT,
                    detail TEXT NOT NULL DEFAULT '{}'
                );
                CREATE INDEX event_ticket ON event(ticket_id);
                CREATE TRIGGER event_append_only_update BEFORE UPDATE ON event
                    BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
                CREATE TRIGGER event_append_only_delete BEFORE DELETE ON event
                    BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
                """)
        }
        m.registerMigration("2026-11-22-classification") { db in
            try db.execute(sql: """
                ALTER TABLE ticket ADD COLUMN category TEXT;
                ALTER TABLE ticket ADD COLUMN confidence REAL;
                ALTER TABLE ticket ADD COLUMN degree TEXT;
                ALTER TABLE ticket ADD COLUMN language TEXT;
                ALTER TABLE ticket ADD COLUMN reasons TEXT NOT NULL DEFAULT '[]';
                ALTER TABLE ticket ADD COLUMN report TEXT;
                CREATE INDEX ticket_category ON ticket(category, state);
                """)
        }
        m.registerMigration("2026-11-22-outbox") { db in
            try db.execute(sql: """
                CREATE TABLE outbox (
                    id INTEGER PRIMARY KEY,
                    ticket_id INTEGER NOT NULL REFERENCES ticket(id),
                    recipient TEXT NOT NULL,
                    envelope_from TEXT NOT NULL,
                    message_id TEXT NOT NULL UNIQUE,
                    kb_entry TEXT NOT NULL,
                    raw BLOB NOT NULL,
                    state TEXT NOT NULL DEFAULT 'pending',
                    attempts INTEGER NOT NULL DEFAULT 0,
                    next_attempt_at INTEGER NOT NULL,
                    last_error TEXT,
                    created_at INTEGER NOT NULL,
                    sent_at INTEGER
                );
                CREATE INDEX outbox_due ON outbox(state, next_attempt_at);
                CREATE INDEX outbox_recipient ON outbox(recipient, created_at);
                CREATE TABLE ticket_message (
                    message_row INTEGER PRIMARY KEY REFERENCES message(id),
                    ticket_id INTEGER NOT NULL REFERENCES ticket(id),
                    informational INTEGER NOT NULL,
                    attached_at INTEGER NOT NULL
                );
                CREATE INDEX ticket_message_ticket ON ticket_message(ticket_id);
                ALTER TABLE ticket ADD COLUMN answer_entry TEXT;
                """)
        }
        m.registerMigration("2026-12-01-pipeline") { db in
            // Claims: one processor takes a message at a time (a lease, released when its worker is gone).
            // New tickets take their message's row id, so a decision knows its ticket number in advance.
            try db.execute(sql: """
                ALTER TABLE message ADD COLUMN claimed_by TEXT;
                ALTER TABLE message ADD COLUMN claimed_until INTEGER;
                ALTER TABLE ticket ADD COLUMN decision TEXT;
                ALTER TABLE ticket ADD COLUMN linked_ticket INTEGER;
                CREATE INDEX outbox_ticket ON outbox(ticket_id);
                """)
        }
        m.registerMigration("2026-12-01-service-levels") { db in
            // The service level decided with the ticket; the watch marks warnings and escalations once.
            try db.execute(sql: """
                ALTER TABLE ticket ADD COLUMN sla_group TEXT;
                ALTER TABLE ticket ADD COLUMN sla_policy TEXT;
                ALTER TABLE ticket ADD COLUMN priority TEXT;
                ALTER TABLE ticket ADD COLUMN first_response_due INTEGER;
                ALTER TABLE ticket ADD COLUMN resolution_due INTEGER;
                ALTER TABLE ticket ADD COLUMN sla_warn_at INTEGER;
                ALTER TABLE ticket ADD COLUMN sla_escalate_to TEXT;
                ALTER TABLE ticket ADD COLUMN sla_warned_at INTEGER;
                ALTER TABLE ticket ADD COLUMN sla_escalated_at INTEGER;
                CREATE INDEX ticket_sla_due ON ticket(first_response_due) WHERE first_response_due IS NOT NULL AND sla_escalated_at IS NULL;
                """)
        }
        m.registerMigration("2026-12-01-agents") { db in
            // Drafts for semi-automatic tickets, the agent holding a ticket, the paused clock, the first response.
            try db.execute(sql: """
                CREATE TABLE draft (
                    id INTEGER PRIMARY KEY,
                    ticket_id INTEGER NOT NULL REFERENCES ticket(id),
                    kb_entry TEXT NOT NULL,
                    body TEXT NOT NULL,
                    state TEXT NOT NULL,
                    agent TEXT,
                    reason TEXT,
                    created_at INTEGER NOT NULL,
                    decided_at INTEGER
                );
                CREATE INDEX draft_ticket ON draft(ticket_id);
                ALTER TABLE ticket ADD COLUMN assignee TEXT;
                ALTER TABLE ticket ADD COLUMN paused_at INTEGER;
                ALTER TABLE ticket ADD COLUMN first_responded_at INTEGER;
                ALTER TABLE ticket ADD COLUMN sla_calendar TEXT;
                CREATE INDEX ticket_assignee ON ticket(assignee) WHERE assignee IS NOT NULL;
                """)
        }
        m.registerMigration("2026-12-02-outbox-send-started") { db in
            // Sends begun, committed before each SMTP transaction: more than `attempts` (outcomes recorded) means an
            // attempt was cut off after the server may have accepted it, the window in which an answer can go out twice.
            try db.execute(sql: """
                ALTER TABLE outbox ADD COLUMN send_started INTEGER NOT NULL DEFAULT 0;
                UPDATE outbox SET send_started = attempts;
                """)
        }
        m.registerMigration("2026-12-02-scale") { db in
            // Lookups that read whole tables once the store holds years of tickets: events by kind (stats, the
            // metrics, the backlog), answers per recipient whatever its case (the loop guard, for every message),
            // and the first answers of the last week (the backlog, for every batch).
            try db.execute(sql: """
                CREATE INDEX event_kind ON event(kind, ticket_id);
                DROP INDEX outbox_recipient;
                CREATE INDEX outbox_recipient_lower ON outbox(lower(recipient), created_at);
                CREATE INDEX ticket_first_response ON ticket(first_responded_at) WHERE first_responded_at IS NOT NULL;
                """)
        }
        return m
    }
}
