// A realistic Express app written against @clerk/express 2.1.70's API. __test__/types.test.js type-checks it
// with `tsc --strict` twice: as it is (proving it is valid Clerk code) and with every '@clerk/express' import
// rewritten to 'clerk-native/express' (proving the switch is a change of import).
import express, { type NextFunction, type Request, type Response } from 'express'
import {
  authenticateRequest,
  clerkClient,
  clerkMiddleware,
  createClerkClient,
  getAuth,
  requireAuth,
  verifyToken,
} from '@clerk/express'
import type { AuthObject, ClerkMiddlewareOptions, ExpressRequestWithAuth, Organization, User, WebhookEvent } from '@clerk/express'

// The Express Request augmentation Clerk documents (@clerk/express/env declares the same).
declare global {
  namespace Express {
    interface Request {
      auth: (options?: { treatPendingAsSignedOut?: boolean }) => AuthObject
    }
  }
}

const PK_A = 'pk_test_Y2xlcmsuYS5leGFtcGxlLmNvbSQ'
const PK_B = 'pk_test_Y2xlcmsuYi5leGFtcGxlLmNvbSQ'

const options: ClerkMiddlewareOptions = {
  publishableKey: process.env.CLERK_PUBLISHABLE_KEY,
  secretKey: process.env.CLERK_SECRET_KEY,
  authorizedParties: ['https://app.example.com'],
  signInUrl: '/sign-in',
  debug: true,
  frontendApiProxy: { enabled: true, path: '/__clerk' },
}

const app = express()
app.use(clerkMiddleware(options))
app.use(clerkMiddleware())
// Per-domain keys, sync and async.
app.use(clerkMiddleware((req) => ({ publishableKey: req.hostname === 'a.example.com' ? PK_A : PK_B })))
app.use(clerkMiddleware(async (req: Request) => ({ secretKey: req.get('x-tenant') === 'b' ? 'sk_test_b' : 'sk_test_a' })))

app.get('/me', async (req: Request, res: Response) => {
  const { userId, sessionId, sessionClaims, orgId, orgRole, has, isAuthenticated } = getAuth(req)
  if (!userId) {
    res.status(401).json({ error: 'Unauthorized' })
    return
  }
  const sid: string | null = sessionId
  const sub: string | undefined = sessionClaims?.sub
  const isAdmin: boolean = has({ role: 'org:admin' })
  const canManage: boolean = has({ permission: 'org:billing:manage' })
  const user: User = await clerkClient.users.getUser(userId)
  res.json({
    id: user.id,
    email: user.primaryEmailAddress?.emailAddress ?? null,
    sid,
    sub,
    isAdmin,
    canManage,
    orgId: orgId ?? null,
    orgRole: orgRole ?? null,
    isAuthenticated,
  })
})

app.get('/session', (req: Request, res: Response) => {
  const auth = getAuth(req)
  if (auth.isAuthenticated) {
    // narrowed to the signed-in session object
    const userId: string = auth.userId
    const sessionId: string = auth.sessionId
    const sub: string = auth.sessionClaims.sub
    res.json({ userId, sessionId, sub, debug: auth.debug() })
    return
  }
  res.json({ signedOut: true, status: auth.sessionStatus })
})

app.get('/token', async (req: Request, res: Response) => {
  const { getToken } = getAuth(req)
  const token: string | null = await getToken({ template: 'supabase' })
  res.json({ token })
})

app.get('/api/key', (req: Request, res: Response) => {
  const auth = getAuth(req, { acceptsToken: 'api_key' })
  if (!auth.isAuthenticated) {
    res.status(401).json({ error: 'Unauthorized' })
    return
  }
  const id: string = auth.id
  const name: string = auth.name
  const scopes: string[] = auth.scopes
  const subject: string = auth.subject
  const owner: string | null = auth.userId ?? auth.orgId
  res.json({ id, name, scopes, subject, owner, tokenType: auth.tokenType })
})

app.get('/api/machines', (req: Request, res: Response) => {
  const auth = getAuth(req, { acceptsToken: ['session_token', 'm2m_token'] })
  if (auth.tokenType === 'm2m_token' && auth.isAuthenticated) {
    const machineId: string = auth.machineId
    res.json({ machineId })
    return
  }
  if (auth.tokenType === 'session_token') {
    res.json({ userId: auth.userId })
    return
  }
  res.status(401).json({ tokenType: auth.tokenType })
})

app.get('/api/oauth', (req: Request, res: Response) => {
  const auth = getAuth(req, { acceptsToken: 'oauth_token' })
  if (!auth.isAuthenticated) {
    res.sendStatus(401)
    return
  }
  const clientId: string = auth.clientId
  const userId: string = auth.userId
  res.json({ clientId, userId, scopes: auth.scopes })
})

app.get('/any', (req: Request, res: Response) => {
  const auth = getAuth(req, { acceptsToken: 'any' })
  res.json({ tokenType: auth.tokenType, isAuthenticated: auth.isAuthenticated })
})

app.get('/pending', (req: Request, res: Response) => {
  const auth = getAuth(req, { treatPendingAsSignedOut: false })
  res.json({ status: auth.sessionStatus, userId: auth.userId })
})

app.get('/req-auth', (req: Request, res: Response) => {
  const auth = req.auth()
  const pendingToo = req.auth({ treatPendingAsSignedOut: false })
  const typed = req as ExpressRequestWithAuth
  res.json({ tokenType: auth.tokenType, ok: pendingToo.isAuthenticated, same: typeof typed.auth === 'function' })
})

app.get('/protected', requireAuth({ signInUrl: '/sign-in' }), (req: Request, res: Response) => {
  res.json({ userId: getAuth(req).userId })
})
app.get('/protected-default', requireAuth(), (req: Request, res: Response) => {
  res.json({ userId: getAuth(req).userId })
})

const adminClient = createClerkClient({ secretKey: 'sk_test_admin', publishableKey: PK_A })

app.get('/orgs/:id', async (req: Request<{ id: string }>, res: Response) => {
  const org: Organization = await adminClient.organizations.getOrganization({ organizationId: req.params.id })
  const { data, totalCount } = await adminClient.users.getUserList({ limit: 10 })
  res.json({ name: org.name, users: data.map((u: User) => u.id), totalCount })
})

export async function verifyBearer(token: string): Promise<string> {
  const payload = await verifyToken(token, { jwtKey: process.env.CLERK_JWT_KEY, authorizedParties: ['https://app.example.com'] })
  const sub: string = payload.sub
  return sub
}

export async function authenticateWebRequest(request: globalThis.Request): Promise<string | null> {
  const state = await adminClient.authenticateRequest(request, { acceptsToken: 'any' })
  if (state.status === 'handshake') return null
  const auth = state.toAuth()
  return auth.isAuthenticated ? auth.tokenType : null
}

export async function authenticateExpressRequest(req: Request): Promise<string | null> {
  const state = await authenticateRequest({ clerkClient: adminClient, request: req, options: { jwtKey: process.env.CLERK_JWT_KEY } })
  const auth = state.toAuth()
  return auth ? auth.userId : null
}

// Guards against declarations that degrade to `any`: each of these must be a type error.
export function notAny(req: Request): void {
  // @ts-expect-error userId is string | null
  const n: number = getAuth(req).userId
  // @ts-expect-error a plain getAuth(req) is a session object: no API key name
  const name: string = getAuth(req).name
  // @ts-expect-error clerkMiddleware takes options or a function, not a string
  clerkMiddleware('pk_test_x')
  // @ts-expect-error the Backend API client has no such namespace
  void clerkClient.noSuchNamespace
  void n
  void name
}

export function eventName(evt: WebhookEvent): string {
  return evt.type
}

app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
  res.status(500).json({ error: err instanceof Error ? err.message : String(err) })
})

export default app
