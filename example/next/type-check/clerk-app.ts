// A typical Clerk Next.js server code base, written against @clerk/nextjs/server 7.9.17. The test
// (__test__/next-types.test.js) type-checks it with `tsc --strict` as it is, and again with the import swapped to
// clerk-native/next: both must compile.
import { auth, clerkClient, clerkMiddleware, createRouteMatcher, currentUser, getAuth } from '@clerk/nextjs/server'
import type { NextApiRequest, NextApiResponse } from 'next'
import { NextResponse, type NextRequest } from 'next/server'

const isProtectedRoute = createRouteMatcher(['/dashboard(.*)', '/forum(.*)'])
const isAdminRoute = createRouteMatcher([/^\/admin/, '/org/:slug/settings'])
const isWebhook = createRouteMatcher((req) => req.nextUrl.pathname.startsWith('/api/webhooks'))

export const middleware = clerkMiddleware(
  async (auth, req: NextRequest) => {
    if (isWebhook(req)) return
    if (isAdminRoute(req)) await auth.protect({ role: 'org:admin' }, { unauthorizedUrl: new URL('/', req.url).toString() })
    if (isProtectedRoute(req)) await auth.protect()
    const { userId, redirectToSignIn, orgId } = await auth()
    if (!userId && req.nextUrl.pathname === '/private') return redirectToSignIn({ returnBackUrl: req.url })
    if (orgId) return NextResponse.next()
    const machine = await auth.protect({ token: 'api_key' })
    machine.id satisfies string
  },
  { signInUrl: '/sign-in', frontendApiProxy: { enabled: true } },
)

export const withOptionsFn = clerkMiddleware(async (auth) => {
  await auth.protect((has) => has({ permission: 'org:invoices:read' }) || has({ role: 'org:billing' }))
}, (req) => ({ domain: req.nextUrl.host, isSatellite: false }))

export const bare = clerkMiddleware()

export const config = { runtime: 'nodejs', matcher: ['/((?!_next|.*\\..*).*)', '/(api|trpc)(.*)'] }

export async function Page(): Promise<string> {
  const { userId, sessionClaims, has, getToken } = await auth()
  if (!userId) return 'signed out'
  const token: string | null = await getToken({ template: 'supabase' })
  const canRead: boolean = has({ permission: 'org:posts:read' })
  const user = await currentUser()
  const email = user?.primaryEmailAddress?.emailAddress
  const sub: string | undefined = sessionClaims?.sub
  return `${userId} ${email} ${canRead} ${token} ${sub}`
}

export async function GET() {
  const { isAuthenticated, userId } = await auth()
  if (!isAuthenticated) return new Response('Unauthorized', { status: 401 })
  const client = await clerkClient()
  const user = await client.users.getUser(userId)
  await client.users.updateUserMetadata(userId, { publicMetadata: { seen: true } })
  const m2m = await auth({ acceptsToken: 'm2m_token' })
  const anyToken = await auth({ acceptsToken: 'any' })
  return Response.json({ id: user.id, m2m: m2m.isAuthenticated, type: anyToken.tokenType })
}

export async function POST() {
  'use server'
  const { userId } = await auth.protect()
  return userId
}

export default function handler(req: NextApiRequest, res: NextApiResponse) {
  const { userId, orgRole } = getAuth(req)
  const session = getAuth(req, { acceptsToken: 'session_token' })
  res.status(userId ? 200 : 401).json({ userId, orgRole, sid: session.sessionId })
}

// None of these may be `any` (a missing or broken declaration would make them so and hide every error above).
type IsAny<T> = 0 extends 1 & T ? true : false
type NotAny<T> = IsAny<T> extends true ? never : true
export const typed: [
  NotAny<typeof auth>,
  NotAny<Awaited<ReturnType<typeof auth>>>,
  NotAny<typeof auth.protect>,
  NotAny<typeof clerkMiddleware>,
  NotAny<typeof createRouteMatcher>,
  NotAny<Awaited<ReturnType<typeof currentUser>>>,
  NotAny<ReturnType<typeof getAuth>>,
  NotAny<Awaited<ReturnType<typeof clerkClient>>>,
] = [true, true, true, true, true, true, true, true]
