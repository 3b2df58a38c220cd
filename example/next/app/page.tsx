import { auth } from 'clerk-native/next'

export default async function Home() {
  const { userId } = await auth()
  return (
    <main>
      <h1>clerk-native on Next.js</h1>
      <p id="status">{userId ? `Signed in as ${userId}` : 'Signed out'}</p>
      {userId ? (
        <form method="post" action="/__clerk/v1/client/sign_outs">
          <input type="hidden" name="redirect_url" value="/" />
          <button type="submit">Sign out</button>
        </form>
      ) : (
        <a href="/sign-in">Sign in</a>
      )}
    </main>
  )
}
