-- OpenStack regions managed with `orchestrator clouds`, next to the one the OPENSTACK_* settings
-- define. The password or application credential secret is stored only sealed (AES-256-GCM under
-- a key derived from SECRET_KEY, bound to the region): a dump of the database holds no plaintext.
CREATE TABLE clouds (
  region                    text        PRIMARY KEY CHECK (length(region) BETWEEN 1 AND 255),
  auth_url                  text        NOT NULL CHECK (auth_url ~ '^https?://'),
  -- Exactly one way to authenticate: a user name (password) or an application credential id.
  username                  text        NOT NULL DEFAULT '',
  application_credential_id text        NOT NULL DEFAULT '',
  project_name              text        NOT NULL DEFAULT '',
  user_domain_name          text        NOT NULL DEFAULT 'Default',
  project_domain_name       text        NOT NULL DEFAULT 'Default',
  -- 12-byte nonce, ciphertext, 16-byte tag; key_version names the key that sealed it.
  secret_sealed             bytea       NOT NULL CHECK (length(secret_sealed) >= 28),
  key_version               text        NOT NULL CHECK (key_version ~ '^[0-9a-f]{8}$'),
  -- Not a secret: the PEM of a CA trusted for this cloud in addition to the system's.
  ca_certificate            text        NOT NULL DEFAULT '',
  endpoint_allowlist        text[]      NOT NULL DEFAULT '{}',
  created_at                timestamptz NOT NULL DEFAULT now(),
  updated_at                timestamptz NOT NULL DEFAULT now(),
  CHECK ((username <> '') <> (application_credential_id <> ''))
);
