import type { ReactNode } from 'react'

export const metadata = { title: 'clerk-native Next.js example' }

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body style={{ fontFamily: 'system-ui, sans-serif', maxWidth: 720, margin: '2rem auto' }}>
        <nav>
          <a href="/">Home</a> · <a href="/dashboard">Dashboard</a> · <a href="/api/me">/api/me</a> · <a href="/sign-in">Sign in</a>
        </nav>
        {children}
      </body>
    </html>
  )
}
