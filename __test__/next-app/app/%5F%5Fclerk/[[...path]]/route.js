// The folder is named %5F%5Fclerk, not __clerk: App Router treats folders starting with "_" as private (not routed);
// %5F is the documented way to get a URL segment starting with an underscore, so this serves /__clerk/*.
// The Frontend API proxy route of the test app: every method under /__clerk goes through clerk-native/next.
// Keys come from the environment at run time (NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY / CLERK_SECRET_KEY), the FAPI
// URL from CLERK_FAPI_URL (the test's local upstream).
import { createFrontendApiProxyHandlers } from 'clerk-native/next'

export const runtime = 'nodejs'
export const dynamic = 'force-dynamic'

export const { GET, POST, PUT, DELETE, PATCH, HEAD, OPTIONS } = createFrontendApiProxyHandlers({
  fapiUrl: process.env.CLERK_FAPI_URL,
})
