// Wire checks through fetch (no browser) that hold for the real next-auth 4.24.15 handler and
// must hold for tessera-server. Spec references: shared/spec/authjs-protocol.md.
import { test } from "node:test"
import assert from "node:assert/strict"
import {
  AUTH_BASE,
  CSRF_COOKIE,
  EMAIL,
  HEX64,
  PASSWORD,
  SESSION_COOKIE,
  Jar,
  csrfHash,
  fetchCsrf,
  jsonBody,
} from "./helpers.mjs"

function assertNoCacheHeaders(res) {
  assert.equal(res.headers.get("cache-control"), "private, no-cache, no-store")
  assert.equal(res.headers.get("pragma"), "no-cache")
  assert.equal(res.headers.get("expires"), "0")
}

function assertJsonContentType(res) {
  assert.match(res.headers.get("content-type") ?? "", /^application\/json\b/)
}

test("GET /providers: one credentials provider with absolute URLs (§6)", async () => {
  const res = await new Jar().fetch("/api/auth/providers")
  assert.equal(res.status, 200)
  assertJsonContentType(res)
  assert.deepEqual(await jsonBody(res), {
    credentials: {
      id: "credentials",
      name: "Credentials",
      type: "credentials",
      signinUrl: `${AUTH_BASE}/signin/credentials`,
      callbackUrl: `${AUTH_BASE}/callback/credentials`,
    },
  })
})

test("GET /csrf: token, double-submit cookie, no-cache headers (§4, §2.3)", async () => {
  const jar = new Jar()
  const res = await jar.fetch("/api/auth/csrf")
  assert.equal(res.status, 200)
  assertJsonContentType(res)
  assertNoCacheHeaders(res)
  const { csrfToken } = await jsonBody(res)
  assert.match(csrfToken, HEX64)

  const [cookie, ...more] = jar.setCookies(CSRF_COOKIE)
  assert.ok(cookie, "a csrf Set-Cookie")
  assert.equal(more.length, 0)
  const m = cookie.raw.match(
    /^next-auth\.csrf-token=([0-9a-f]{64})%7C([0-9a-f]{64}); Path=\/; HttpOnly; SameSite=Lax$/
  )
  assert.ok(m, `csrf Set-Cookie has the exact next-auth form: ${cookie.raw}`)
  assert.equal(m[1], csrfToken, "cookie token = body token")
  assert.equal(m[2], csrfHash(csrfToken), "cookie hash = sha256(token + secret)")

  // A valid csrf cookie is reused: same token, no new csrf Set-Cookie.
  const again = await jar.fetch("/api/auth/csrf")
  assert.equal(again.status, 200)
  assert.equal((await jsonBody(again)).csrfToken, csrfToken)
  assert.equal(jar.setCookies(CSRF_COOKIE).length, 0)
})

test("GET /session without a session: {} with no-cache headers (§6)", async () => {
  const res = await new Jar().fetch("/api/auth/session")
  assert.equal(res.status, 200)
  assertJsonContentType(res)
  assertNoCacheHeaders(res)
  assert.deepEqual(await jsonBody(res), {})
})

test("POST /signout without csrfToken: {url: …/signout?csrf=true} (§6)", async () => {
  const jar = new Jar()
  await fetchCsrf(jar)
  const res = await jar.fetch("/api/auth/signout", { method: "POST", form: { json: "true" } })
  assert.equal(res.status, 200)
  assertJsonContentType(res)
  assert.deepEqual(await jsonBody(res), { url: `${AUTH_BASE}/signout?csrf=true` })
})

test("POST /session (update) without csrfToken: 400 {} (§4)", async () => {
  const jar = new Jar()
  await fetchCsrf(jar)
  const res = await jar.fetch("/api/auth/session", { method: "POST", json: { data: { name: "x" } } })
  assert.equal(res.status, 400)
  assert.deepEqual(await jsonBody(res), {})
})

test("unknown action: 400 (§2.1)", async () => {
  const res = await new Jar().fetch("/api/auth/nope")
  assert.equal(res.status, 400)
  assert.equal(await res.text(), "Error: This action with HTTP GET is not supported by NextAuth.js")
})

test("credentials failure with json=true: 401 {url: …/error?error=CredentialsSignin&provider=credentials} (§8.4)", async () => {
  const jar = new Jar()
  const csrfToken = await fetchCsrf(jar)
  const res = await jar.fetch("/api/auth/callback/credentials", {
    method: "POST",
    form: { email: EMAIL, password: "definitely-not-the-password", csrfToken, json: "true" },
  })
  assert.equal(res.status, 401)
  assertJsonContentType(res)
  assert.deepEqual(await jsonBody(res), {
    url: `${AUTH_BASE}/error?error=CredentialsSignin&provider=credentials`,
  })
  assert.equal(jar.setCookies(SESSION_COOKIE).length, 0, "no session cookie on failure")
})

test("credentials without csrfToken: {url: …/signin?csrf=true}, no session (§4)", async () => {
  const jar = new Jar()
  await fetchCsrf(jar)
  const res = await jar.fetch("/api/auth/callback/credentials", {
    method: "POST",
    form: { email: EMAIL, password: PASSWORD, json: "true" },
  })
  assert.equal(res.status, 200)
  assert.deepEqual(await jsonBody(res), { url: `${AUTH_BASE}/signin?csrf=true` })
  assert.equal(jar.setCookies(SESSION_COOKIE).length, 0, "no session cookie")
})
