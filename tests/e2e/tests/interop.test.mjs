// JWT interop (no browser): session cookies minted by the server must decode with the real
// `next-auth/jwt` (4.24.15) and AUTH_SECRET, and tokens minted by `next-auth/jwt` must be accepted
// by the server. This is what lets a Next.js app and the server share sessions (spec §7, §8.2).
import { test } from "node:test"
import assert from "node:assert/strict"
import { encode, decode } from "next-auth/jwt"
import {
  AUTH_SECRET,
  EMAIL,
  ISO_DATE,
  Jar,
  NAME,
  PASSWORD,
  SESSION_COOKIE,
  THIRTY_DAYS,
  UUID_V4,
  fetchCsrf,
  jsonBody,
} from "./helpers.mjs"

/** Claims a session token may carry with the default callbacks (§7 "Default token at sign-in"). */
const ALLOWED_CLAIMS = new Set(["name", "email", "picture", "sub", "iat", "exp", "jti"])

/**
 * The one session Set-Cookie of the last response: value is the JWE, attributes as next-auth
 * writes them (Path=/, HttpOnly, SameSite=Lax, Expires ≈ now + 30 days, not Secure over http).
 */
function sessionCookieOf(jar) {
  const all = jar.setCookies(SESSION_COOKIE)
  assert.equal(all.length, 1, `exactly one ${SESSION_COOKIE} Set-Cookie: ${jar.last.map((c) => c.raw)}`)
  const c = all[0]
  assert.equal(c.attrs.get("path"), "/")
  assert.equal(c.attrs.get("httponly"), true)
  assert.equal(String(c.attrs.get("samesite")).toLowerCase(), "lax")
  assert.equal(c.attrs.has("secure"), false)
  const expires = Date.parse(c.attrs.get("expires"))
  assert.ok(Math.abs(expires - (Date.now() + THIRTY_DAYS * 1000)) < 120_000, `Expires ≈ now + 30 d: ${c.raw}`)
  assert.match(c.value, /^eyJ[\w-]*\.\.[\w-]+\.[\w-]+\.[\w-]+$/, "a compact JWE with an empty key segment")
  return c.value
}

function assertTimeClaims(claims) {
  const now = Math.floor(Date.now() / 1000)
  assert.ok(Math.abs(claims.iat - now) < 120, `iat ≈ now: ${claims.iat}`)
  assert.equal(claims.exp - claims.iat, THIRTY_DAYS)
  assert.match(claims.jti, UUID_V4)
}

/** Flips one base64url character in the middle of the ciphertext segment of a compact JWE. */
function tamper(jwe) {
  const parts = jwe.split(".")
  const seg = parts[3]
  const mid = Math.floor(seg.length / 2)
  parts[3] = seg.slice(0, mid) + (seg[mid] === "A" ? "B" : "A") + seg.slice(mid + 1)
  return parts.join(".")
}

test("(i) credentials sign-in over HTTP: the session cookie decodes with next-auth/jwt", async () => {
  const jar = new Jar()
  const csrfToken = await fetchCsrf(jar)
  const res = await jar.fetch("/api/auth/callback/credentials", {
    method: "POST",
    form: { email: EMAIL, password: PASSWORD, csrfToken, json: "true" },
  })
  assert.equal(res.status, 200)
  const { url } = await jsonBody(res)
  assert.ok(URL.canParse(url), `absolute url: ${url}`)

  const claims = await decode({ token: sessionCookieOf(jar), secret: AUTH_SECRET })
  assert.ok(claims, "decodes")
  assert.equal(claims.name, NAME)
  assert.equal(claims.email, EMAIL)
  assert.equal(typeof claims.sub, "string")
  assert.ok(claims.sub.length > 0, "sub = the user id")
  assertTimeClaims(claims)
  for (const k of Object.keys(claims)) assert.ok(ALLOWED_CLAIMS.has(k), `unexpected claim ${k}`)

  // The cookie is a live session.
  const session = await jsonBody(await jar.fetch("/api/auth/session"))
  assert.equal(session.user?.name, NAME)
  assert.equal(session.user?.email, EMAIL)
})

test("(ii) a token encoded by next-auth/jwt is accepted, and the re-issued cookie decodes", async () => {
  const token = {
    name: "Interop Person",
    email: "interop@example.com",
    sub: "interop-42",
    picture: "https://example.com/interop.png",
  }
  const jwe = await encode({ token, secret: AUTH_SECRET })
  const jar = new Jar()
  jar.cookies.set(SESSION_COOKIE, jwe)
  const res = await jar.fetch("/api/auth/session")
  assert.equal(res.status, 200)
  const body = await jsonBody(res)
  // v4 builds the session user from the decoded token: {name, email, image: picture} (§8.2).
  assert.deepEqual(Object.keys(body).sort(), ["expires", "user"])
  assert.deepEqual(body.user, { name: token.name, email: token.email, image: token.picture })
  assert.match(body.expires, ISO_DATE)
  assert.ok(Math.abs(Date.parse(body.expires) - (Date.now() + THIRTY_DAYS * 1000)) < 120_000)

  // JWT mode re-issues the cookie on every read (sliding expiry); it decodes again.
  const reissued = sessionCookieOf(jar)
  assert.notEqual(reissued, jwe)
  const claims = await decode({ token: reissued, secret: AUTH_SECRET })
  assert.ok(claims, "re-issued cookie decodes")
  for (const k of Object.keys(token)) assert.equal(claims[k], token[k], `claim ${k} kept`)
  assertTimeClaims(claims)
})

test("(iii) a tampered or foreign-secret cookie gives {} and a clearing Set-Cookie", async () => {
  const good = await encode({
    token: { name: "T", email: "t@example.com", sub: "t-1" },
    secret: AUTH_SECRET,
  })
  const foreign = await encode({
    token: { name: "T", email: "t@example.com", sub: "t-1" },
    secret: `${AUTH_SECRET}-but-another-one`,
  })
  for (const [label, value] of [["tampered", tamper(good)], ["other secret", foreign]]) {
    const jar = new Jar()
    jar.cookies.set(SESSION_COOKIE, value)
    const res = await jar.fetch("/api/auth/session")
    assert.equal(res.status, 200, label)
    assert.deepEqual(await jsonBody(res), {}, label)
    const cleared = jar.setCookies(SESSION_COOKIE)
    assert.equal(cleared.length, 1, `${label}: one clearing Set-Cookie`)
    const [c] = cleared
    assert.equal(c.value, "", `${label}: ${c.raw}`)
    assert.equal(c.attrs.get("max-age"), "0", `${label}: ${c.raw}`)
    assert.equal(c.attrs.get("path"), "/", `${label}: ${c.raw}`)
  }
})
