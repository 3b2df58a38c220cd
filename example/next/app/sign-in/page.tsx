// A stand-in for Clerk's <SignIn />: the form posts to the Frontend API through the app's /__clerk proxy, which
// signs the demo user in (session cookies on this domain) and redirects back.
export default async function SignIn({ searchParams }: { searchParams: Promise<{ redirect_url?: string }> }) {
  const { redirect_url: redirectUrl } = await searchParams
  return (
    <main>
      <h1>Sign in</h1>
      <form method="post" action="/__clerk/v1/client/sign_ins">
        <input type="hidden" name="redirect_url" value={redirectUrl || '/dashboard'} />
        <button type="submit" id="sign-in">Sign in as the demo user</button>
      </form>
    </main>
  )
}
