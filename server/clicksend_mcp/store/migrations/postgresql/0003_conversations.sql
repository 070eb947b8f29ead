-- Conversations: messages received (inbound SMS) and sent (outbound, with their delivery status), one row per
-- ClickSend message id and direction. `seq` changes on every insert or status change, so a waiter on any replica
-- finds what is new with one indexed query (woken by NOTIFY clicksend_mcp_messages).
CREATE SEQUENCE message_seq;
CREATE TABLE messages (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant TEXT NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    channel TEXT NOT NULL,
    message_id TEXT NOT NULL,
    peer TEXT,
    own_number TEXT,
    body TEXT,
    original_message_id TEXT,
    custom_string TEXT,
    status TEXT,
    status_code TEXT,
    error_text TEXT,
    sent_at DOUBLE PRECISION,
    received_at DOUBLE PRECISION NOT NULL,
    seq BIGINT NOT NULL,
    UNIQUE (tenant, direction, message_id)
);
CREATE INDEX messages_by_seq ON messages (tenant, seq);
CREATE INDEX messages_by_peer ON messages (tenant, peer, id);
CREATE INDEX messages_by_original ON messages (tenant, original_message_id) WHERE original_message_id IS NOT NULL;
