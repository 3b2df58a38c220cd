'use strict'
// clerk-native/webhooks: `verifyWebhook(request, { signingSecret? })` for a Web `Request`, the drop-in for
// `@clerk/backend/webhooks`. The signature check runs natively (lib/webhooks.js, crates/core/src/webhook.rs).

require('./lib/native') // first: loads the native binding with a clear error when it cannot
const { verifyWebhook } = require('./lib/webhooks')

module.exports = { verifyWebhook }
