import { auth, currentUser } from 'clerk-native/next'

// Protected by the middleware (auth.protect()); auth() and currentUser() read what it handed over.
export default async function Dashboard() {
  const { userId, sessionId } = await auth()
  const user = await currentUser()
  return (
    <main>
      <h1>Dashboard</h1>
      <p id="user-id">{userId}</p>
      <p id="session-id">{sessionId}</p>
      <p id="user-name">{user ? `${user.firstName} ${user.lastName}` : 'no user'}</p>
      <p id="user-email">{user?.primaryEmailAddress?.emailAddress}</p>
    </main>
  )
}
