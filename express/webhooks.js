'use strict'
// clerk-native/express/webhooks: `verifyWebhook(req, { signingSecret? })` for an Express request, the drop-in for
// `@clerk/express/webhooks`. Mount the route with `express.raw({ type: 'application/json' })` (or `express.text`)
// so `req.body` holds the bytes that were signed.

require('../lib/native') // first: loads the native binding with a clear error when it cannot
const { verifyExpressWebhook } = require('../lib/webhooks')

module.exports = { verifyWebhook: verifyExpressWebhook }
