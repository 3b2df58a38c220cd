import { auth } from 'clerk-native/next'

// Protected by the middleware: a signed-out request never gets here (auth.protect() answers 404).
export async function GET() {
  const { userId } = await auth()
  return Response.json({ userId, secret: 'only for signed-in users' })
}
