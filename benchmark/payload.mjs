// ~1 KB JSON body shaped like a Frontend API /v1/client answer (shared by upstream.mjs and server.mjs).
export const small = Buffer.from(JSON.stringify({
  response: {
    object: 'client',
    id: 'client_2abcdefghijklmnopqrstuvwxyz',
    sessions: [{
      object: 'session', id: 'sess_2abcdefghijklmnopqrstuvwxyz', status: 'active',
      expire_at: 1767225600000, abandon_at: 1769817600000, last_active_at: 1764547200000,
      user: {
        id: 'user_2abcdefghijklmnopqrstuvwxyz', object: 'user', username: null,
        first_name: 'Ada', last_name: 'Lovelace', image_url: 'https://img.clerk.com/eyJ0eXBlIjoiZGVmYXVsdCJ9',
        primary_email_address_id: 'idn_2abcdefghijklmnopqrstuvwxyz',
        email_addresses: [{ id: 'idn_2abcdefghijklmnopqrstuvwxyz', object: 'email_address', email_address: 'ada@example.com', verification: { status: 'verified', strategy: 'email_code' } }],
        public_metadata: {}, unsafe_metadata: {}, created_at: 1700000000000, updated_at: 1764547200000,
      },
    }],
    sign_in: null, sign_up: null, last_active_session_id: 'sess_2abcdefghijklmnopqrstuvwxyz',
    created_at: 1700000000000, updated_at: 1764547200000,
  },
  client: null,
}).padEnd(1024, ' '));
