import type { NextApiRequest, NextApiResponse } from 'next'
import { getAuth } from 'clerk-native/next'

// Pages Router API route: getAuth(req) is synchronous, as @clerk/nextjs's.
export default function handler(req: NextApiRequest, res: NextApiResponse) {
  const { userId, sessionId } = getAuth(req)
  res.status(userId ? 200 : 401).json({ userId, sessionId })
}
