import { clerkMiddleware, createRouteMatcher } from 'clerk-native/next'

// Pages and APIs that need a signed-in user.
const isProtectedRoute = createRouteMatcher(['/dashboard(.*)', '/api/private(.*)'])

export default clerkMiddleware(
  async (auth, req) => {
    if (isProtectedRoute(req)) await auth.protect()
  },
  // The Frontend API proxy: Clerk's browser SDK (and the sign-in form here) talk to /__clerk on this origin.
  { frontendApiProxy: { enabled: true } },
)

export const config = {
  // clerk-native is a Node.js addon: the middleware runs on the Node.js runtime (Next 15.5+).
  runtime: 'nodejs',
  matcher: [
    // Skip Next.js internals and static files (Clerk's recommended matcher), and /no-middleware (a route that
    // shows what auth() says when the middleware did not run).
    '/((?!_next|no-middleware|[^?]*\\.(?:html?|css|js(?!on)|jpe?g|webp|png|gif|svg|ttf|woff2?|ico|csv|docx?|xlsx?|zip|webmanifest)).*)',
    '/(api|trpc)(.*)',
  ],
}
