import { auth } from 'clerk-native/next'

// Machine tokens: an API key in `Authorization: Bearer ak_...` (verified by the middleware against the Backend API).
export async function GET() {
  const { isAuthenticated, id, name, userId } = await auth({ acceptsToken: 'api_key' })
  if (!isAuthenticated) return Response.json({ error: 'no valid API key' }, { status: 401 })
  return Response.json({ id, name, userId })
}
