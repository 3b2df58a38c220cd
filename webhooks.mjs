import webhooks from './webhooks.js'

export const { verifyWebhook } = webhooks
export default webhooks
