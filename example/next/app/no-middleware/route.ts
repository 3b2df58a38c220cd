import { auth } from 'clerk-native/next'

// The middleware matcher leaves this route out: auth() says so with Clerk's error.
export async function GET() {
  try {
    await auth()
    return Response.json({ error: 'auth() should have thrown' }, { status: 500 })
  } catch (err) {
    return Response.json({ message: (err as Error).message }, { status: 500 })
  }
}
