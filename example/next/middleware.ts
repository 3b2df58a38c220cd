import { frontendApiProxyMiddleware } from 'clerk-native/next'
import { NextResponse, type NextRequest } from 'next/server'
const proxy = frontendApiProxyMiddleware()
export default async function middleware(req: NextRequest) {
  return (await proxy(req)) ?? NextResponse.next()
}
export const config = { runtime: 'nodejs', matcher: ['/((?!_next).*)'] }
