'use strict'
// An Express app on 127.0.0.1 for a test, and a bounded JSON GET against it.
//
//   const app = await listenApp(expressApp, apps)    // { url, close }; pushed to `apps` for after()
//   const r = await getMe(app, token)                // GET /me with `Bearer token` (or none): { status, body, res }

const { within } = require('./wait')

/** Listens on 127.0.0.1:0; `close()` also cuts open connections. The handle is pushed to `apps` when given. */
async function listenApp(app, apps) {
  const server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s))
  })
  const handle = {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
  if (apps) apps.push(handle)
  return handle
}

/** GET `${app.url}/me` with `Bearer token` (or no Authorization): `{ status, body (JSON if it parses), res }`. */
async function getMe(app, token) {
  const headers = token ? { authorization: `Bearer ${token}` } : {}
  const res = await within(fetch(`${app.url}/me`, { headers }), 10000, 'GET /me')
  const text = await within(res.text(), 10000, 'body')
  let body = text
  try {
    body = JSON.parse(text)
  } catch {}
  return { status: res.status, body, res }
}

module.exports = { listenApp, getMe }
