// clerk-native loads a .node addon, which no bundler can place in a chunk: keep it external so Node's own require
// loads it (middleware with runtime 'nodejs', route handlers, server components). The roots pin this directory as
// the project (the repo's package-lock.json above would otherwise be taken as the workspace root).
/** @type {import('next').NextConfig} */
module.exports = {
  serverExternalPackages: ['clerk-native'],
  outputFileTracingRoot: __dirname,
  turbopack: { root: __dirname },
}
