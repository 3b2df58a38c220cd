import { auth } from 'clerk-native/next'

// A route handler: works with the session cookie or `Authorization: Bearer <session token>`.
export async function GET() {
  const { userId, sessionId, orgId } = await auth()
  if (!userId) return Response.json({ error: 'signed out' }, { status: 401 })
  return Response.json({ userId, sessionId, orgId })
}
