// clerk-native-only parts of clerk-native/express, type-checked by __test__/types.test.js under `tsc --strict`:
// resolveUser / organizationId, requireAuth's unauthenticated: 'json', jwksUrl, function-valued satellite options,
// the proxy alone, and the 1.x-style `req.auth.userId` / `req.auth.user` access through LegacyRequestAuth.
import express, { type Request, type Response } from 'express'
import { clerkMiddleware, createClerkClient, frontendApiProxy, getAuth, requireAuth } from 'clerk-native/express'
import type { LegacyRequestAuth } from 'clerk-native/express'
import { createClerkClient as rootCreateClerkClient } from 'clerk-native'

declare global {
  namespace Express {
    interface Request {
      auth: LegacyRequestAuth
    }
  }
}

const app = express()
app.use(frontendApiProxy({ enabled: (url: URL) => url.hostname.endsWith('.example.com'), path: '/__clerk', fapiUrl: 'https://frontend-api.clerk.dev' }))
app.use(
  clerkMiddleware({
    jwksUrl: 'https://keys.example.com/jwks.json',
    isSatellite: (url: URL) => url.hostname.startsWith('sat.'),
    domain: (url: URL) => url.hostname,
    proxyUrl: '/__clerk',
    organizationId: 'org_1',
    resolveUser: async (auth) => ({ id: auth.userId, org: auth.orgId }),
    clerkClient: createClerkClient({ secretKey: 'sk_test_x', jwksUrl: 'https://keys.example.com/jwks.json' }),
  }),
)
app.get('/legacy', (req: Request, res: Response) => {
  const user: unknown = req.auth.user
  const isAuthenticated: boolean = req.auth.isAuthenticated
  res.json({ user, isAuthenticated, tokenType: req.auth().tokenType })
})
app.get('/api', requireAuth({ unauthenticated: 'json' }), (req: Request, res: Response) => {
  res.json({ userId: getAuth(req).userId })
})

export const rootClient = rootCreateClerkClient({ secretKey: 'sk_test_root' })
// @ts-expect-error unauthenticated is 'redirect' | 'json'
requireAuth({ unauthenticated: 'html' })
export default app
