import { auth, currentUser } from 'clerk-native/next'
import { redirect } from 'next/navigation'

// A server action: auth() works here too (the action's POST goes through the middleware like any request).
async function whoAmI() {
  'use server'
  const { userId } = await auth.protect()
  redirect(`/dashboard?action=${encodeURIComponent(userId)}`)
}

// Protected by the middleware (auth.protect()); auth() and currentUser() read what it handed over.
export default async function Dashboard({ searchParams }: { searchParams: Promise<{ action?: string }> }) {
  const { userId, sessionId } = await auth()
  const user = await currentUser()
  const { action } = await searchParams
  return (
    <main>
      <h1>Dashboard</h1>
      <p id="user-id">{userId}</p>
      <p id="session-id">{sessionId}</p>
      <p id="user-name">{user ? `${user.firstName} ${user.lastName}` : 'no user'}</p>
      <p id="user-email">{user?.primaryEmailAddress?.emailAddress}</p>
      <form action={whoAmI}>
        <button type="submit" id="who-am-i">Ask a server action who I am</button>
      </form>
      {action ? <p id="action-result">{action}</p> : null}
    </main>
  )
}
