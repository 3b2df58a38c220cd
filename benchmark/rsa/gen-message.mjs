// Writes fixtures/message.txt: the signing input (header.payload) of a Clerk v2 session token, ~800 bytes.
import { writeFileSync } from 'node:fs'
const b64u = (o) => Buffer.from(JSON.stringify(o)).toString('base64url')
const now = 1764600000
const header = { alg: 'RS256', kid: 'ins_2RfWKJREkjKbHZy0Wqa5qrHeAnb', typ: 'JWT', cat: 'cl_B7d4PD111AAA' }
const claims = {
  azp: 'http://localhost:3000', exp: now + 60, fva: [0, -1], iat: now, iss: 'https://magical-marmoset-51.clerk.accounts.dev',
  jti: 'a1b2c3d4e5f6a7b8c9d0', nbf: now - 10, sid: 'sess_2Ro7e2IxrffdqBboq8KfB6eGbIy', sts: 'active', sub: 'user_2RfWKJREkjKbHZy0Wqa5qrHeAnb', v: 2,
  fea: 'o:impersonation,o:reverification', pla: 'u:free_user', o: { id: 'org_2RfWKJREkjKbHZy0Wqa5qrHeAnb', rol: 'admin', slg: 'acme-corp', per: 'read,manage,billing', fpm: '7,3' },
}
const msg = `${b64u(header)}.${b64u(claims)}`
writeFileSync(new URL('./fixtures/message.txt', import.meta.url), msg)
console.log(msg.length, 'bytes')
