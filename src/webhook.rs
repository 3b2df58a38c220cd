//! `#[napi]` webhook signature check (the core's `webhook` module). A refusal is an answer, not an exception: it
//! comes back as `{ code, message, secret }` and `lib/webhooks.js` throws Clerk's error for it.

use clerk_native_core::webhook::{SecretError, SigningKey, VerifyError};
use napi_derive::napi;

/// Why a webhook was refused.
#[napi(object)]
pub struct WebhookRefusal {
    /// Stable code: `webhook_secret_invalid`, `webhook_secret_empty`, `webhook_timestamp_invalid`,
    /// `webhook_timestamp_too_old`, `webhook_timestamp_too_new`, `webhook_signature_mismatch`.
    pub code: String,
    /// The message `standardwebhooks` gives for the same failure.
    pub message: String,
    /// `true` when the signing secret is at fault (Clerk throws those messages unwrapped).
    pub secret: bool,
}

/// Checks a Standard Webhooks signature: `secret` (`whsec_<base64>`), the trimmed `svix-id`, `svix-timestamp` and
/// `svix-signature` values, the body text, and the current time in whole seconds since the epoch. Returns `null`
/// when a `v1` signature matches (HMAC-SHA256, compared in constant time), else the refusal.
#[napi(catch_unwind)]
pub fn verify_webhook_signature(
    secret: String,
    id: String,
    timestamp: String,
    signature: String,
    body: String,
    now_secs: i64,
) -> Option<WebhookRefusal> {
    let key = match SigningKey::from_secret(&secret) {
        Ok(key) => key,
        Err(err) => return Some(secret_refusal(err)),
    };
    match key.verify(&id, &timestamp, &signature, &body, now_secs) {
        Ok(_) => None,
        Err(err) => Some(verify_refusal(err)),
    }
}

/// Every code `verifyWebhookSignature` can return, in the core's order.
#[napi]
pub fn webhook_error_codes() -> Vec<String> {
    let mut codes: Vec<String> = Vec::new();
    for code in SecretError::ALL.iter().map(|e| e.code()) {
        if !codes.iter().any(|c| c == code) {
            codes.push(code.to_owned());
        }
    }
    codes.extend(VerifyError::ALL.iter().map(|e| e.code().to_owned()));
    codes
}

fn secret_refusal(err: SecretError) -> WebhookRefusal {
    WebhookRefusal {
        code: err.code().to_owned(),
        message: err.to_string(),
        secret: true,
    }
}

fn verify_refusal(err: VerifyError) -> WebhookRefusal {
    WebhookRefusal {
        code: err.code().to_owned(),
        message: err.to_string(),
        secret: false,
    }
}
