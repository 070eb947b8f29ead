-- The send ledger: one row per send (or refused send), and the keyed hashes of its recipients.
CREATE TABLE sends (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant TEXT NOT NULL,
    tool TEXT NOT NULL,
    channel TEXT NOT NULL,
    created_at REAL NOT NULL,
    settled_at REAL,
    scheduled_at REAL,
    outcome TEXT NOT NULL CHECK (outcome IN ('pending', 'sent', 'failed', 'refused', 'unknown')),
    recipient_count INTEGER NOT NULL,
    cost INTEGER,
    currency TEXT,
    tag TEXT,
    message_ids TEXT,
    error_code TEXT
);
CREATE INDEX sends_by_tenant_time ON sends (tenant, created_at);
CREATE INDEX sends_by_tag ON sends (tenant, tag) WHERE tag IS NOT NULL;
CREATE INDEX sends_pending ON sends (created_at) WHERE outcome = 'pending';
CREATE TABLE send_recipients (
    send_id INTEGER NOT NULL REFERENCES sends (id) ON DELETE CASCADE,
    tenant TEXT NOT NULL,
    recipient TEXT NOT NULL,
    messages INTEGER NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (send_id, recipient)
) WITHOUT ROWID;
CREATE INDEX send_recipients_by_recipient ON send_recipients (tenant, recipient, created_at);
