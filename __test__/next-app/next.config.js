// Next.js config of the test app used by __test__/next.test.js.
// clerk-native loads a .node addon, which no bundler can place in a chunk: keep the package external so Node's
// own require loads it at run time. This only works when node_modules/clerk-native is a real directory (the
// test copies the working tree there); a symlinked file: dependency resolves outside node_modules and is
// bundled anyway ("non-ecmascript placeable asset"). The roots pin this app as the project (the repo's own
// package-lock.json above would otherwise be taken as the workspace root).
module.exports = {
  serverExternalPackages: ['clerk-native'],
  outputFileTracingRoot: __dirname,
  turbopack: { root: __dirname },
}
