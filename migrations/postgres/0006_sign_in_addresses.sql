-- Addresses (IPv4, or an IPv6 /64) the operator signed in from, and when last: during a flood
-- of sign-ins a known address may use a bcrypt slot kept for it. Failed sign-ins are counted in
-- recovery_attempts under the subject 'login:<address>', like failed retrievals.
CREATE TABLE sign_in_addresses (
    address TEXT PRIMARY KEY NOT NULL,
    last_success_at BIGINT NOT NULL
);
