'use strict'
// clerk-native/next/webhooks: `verifyWebhook(request, { signingSecret? })` for a route handler's `Request` /
// `NextRequest` (or a Pages Router `NextApiRequest`), the drop-in for `@clerk/nextjs/webhooks`.

require('../lib/native') // first: loads the native binding with a clear error when it cannot
const { verifyNextWebhook } = require('../lib/webhooks')

module.exports = { verifyWebhook: verifyNextWebhook }
