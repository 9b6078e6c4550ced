// OpenID Connect end to end: headless Debian chromium (playwright-core) on the test page that
// bundles the REAL next-auth/react client (tests/e2e/app, served by tessera-server at
// /static/), a real OpenID Provider (oidc-provider with its development login and consent
// pages) on ANOTHER loopback address, so the return to the app is a cross-site navigation.
//
// Env (set by run.sh): APP_URL (tessera-server, e.g. http://127.0.0.1:PORT) and OP_URL (the
// provider, e.g. http://127.0.0.2:PORT).
import { test, before, after } from "node:test"
import assert from "node:assert/strict"
import { existsSync } from "node:fs"
import { chromium } from "playwright-core"

function env(name) {
  const v = process.env[name]
  if (!v) throw new Error(`env ${name} is required (run tests/oidc/run.sh)`)
  return v.replace(/\/+$/, "")
}
const APP_URL = env("APP_URL")
const OP_URL = env("OP_URL")
const AUTH_BASE = `${APP_URL}/api/auth`
const PAGE_URL = `${APP_URL}/static/index.html`
const CALLBACK = `${AUTH_BASE}/callback/oidc`
const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium"
const TIMEOUT = 20_000
const SESSION_COOKIE = "next-auth.session-token"
const CHECK_COOKIES = ["next-auth.state", "next-auth.pkce.code_verifier"]

let browser
const problems = []

before(async () => {
  assert.ok(existsSync(CHROMIUM), `chromium not found at ${CHROMIUM}`)
  assert.notEqual(new URL(APP_URL).hostname, new URL(OP_URL).hostname, "app and provider must be different sites")
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  })
})

after(async () => {
  await browser?.close()
})

/** A fresh browser profile (cookies included) with problem tracking. */
async function freshPage() {
  const context = await browser.newContext()
  // Only the two loopback servers are reachable: anything else (the provider's pages link a
  // web font) is answered empty here, never fetched from the network.
  const allowed = new Set([new URL(APP_URL).origin, new URL(OP_URL).origin])
  await context.route(
    (url) => !allowed.has(url.origin),
    (route) => route.fulfill({ status: 204, body: "" }),
  )
  const page = await context.newPage()
  page.setDefaultTimeout(TIMEOUT)
  page.on("pageerror", (err) => problems.push(`pageerror: ${err.stack ?? err}`))
  page.on("console", (msg) => {
    const url = msg.location()?.url ?? ""
    // Chromium logs every 4xx resource; the provider's favicon is not ours.
    if (msg.type() === "error" && !/favicon\.ico$/.test(url)) problems.push(`console.error: ${msg.text()} (${url})`)
  })
  return { context, page }
}

function assertNoProblems() {
  assert.deepEqual(problems.splice(0), [], "no page errors or console errors")
}

const byId = (id) => `[data-testid="${id}"]`

async function sessionCookie(context) {
  return (await context.cookies(APP_URL)).find((c) => c.name === SESSION_COOKIE)
}

async function appSession(context) {
  const res = await context.request.get(`${AUTH_BASE}/session`)
  assert.equal(res.status(), 200)
  return res.json()
}

/** Opens the test page and clicks "Sign in with OIDC"; resolves on the provider's login page. */
async function startSignIn(page) {
  await page.goto(PAGE_URL)
  await page.waitForSelector(`${byId("status")}:text-is("unauthenticated")`)
  await page.click(byId("oidc-signin-button"))
  await page.waitForURL((u) => u.origin === OP_URL && u.pathname.startsWith("/interaction/"))
  await page.waitForSelector('input[name="login"]')
}

/** Logs in at the provider and consents. */
async function loginAndConsent(page, login) {
  await page.fill('input[name="login"]', login)
  await page.fill('input[name="password"]', "any password")
  await page.click('button[type="submit"]')
  // The consent page (devInteractions) has a single "Continue" submit button.
  await page.waitForSelector('button[type="submit"]:has-text("Continue")')
  await page.click('button[type="submit"]:has-text("Continue")')
}

/** The first form of an HTML page: its action and hidden fields (HTML entities decoded). */
function parseForm(html, base) {
  const unescape = (v) => v.replace(/&amp;/g, "&").replace(/&quot;/g, '"').replace(/&#39;/g, "'")
  const action = html.match(/<form[^>]*action="([^"]*)"/)?.[1]
  assert.ok(action, "a form on the provider's page")
  const fields = {}
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) fields[m[1]] = unescape(m[2])
  return { action: new URL(unescape(action), base).href, fields }
}

/**
 * Starts a sign-in in the browser (the real client posts to /signin/oidc and navigates to the
 * provider), holds the browser at the provider's authorization URL, and walks the provider's
 * login and consent with the context's own cookies through its request API, up to the
 * redirect back to the app: resolves with that callback URL (code, state, iss), undelivered.
 * (Playwright cannot stop a browser inside a redirect chain, hence the walk.)
 */
async function captureCallback(page, context, login) {
  let authUrl
  await page.route(`${OP_URL}/auth?**`, (route) => {
    authUrl = route.request().url()
    return route.fulfill({ status: 200, contentType: "text/plain", body: "held at the provider" })
  })
  await page.goto(PAGE_URL)
  await page.waitForSelector(`${byId("status")}:text-is("unauthenticated")`)
  await page.click(byId("oidc-signin-button"))
  await page.waitForFunction(() => document.body?.innerText === "held at the provider")
  await page.unroute(`${OP_URL}/auth?**`)
  assert.ok(authUrl?.startsWith(`${OP_URL}/auth?`), "the client navigated to the provider")

  let res = await context.request.get(authUrl, { maxRedirects: 0 })
  for (let step = 0; step < 20; step++) {
    const status = res.status()
    if (status >= 300 && status < 400) {
      const next = new URL(res.headers().location, res.url()).href
      if (next.startsWith(CALLBACK)) return new URL(next)
      res = await context.request.get(next, { maxRedirects: 0 })
      continue
    }
    assert.equal(status, 200, `provider page ${res.url()}`)
    const form = parseForm(await res.text(), res.url())
    const data = { ...form.fields }
    if (data.prompt === "login") Object.assign(data, { login, password: "any password" })
    res = await context.request.post(form.action, { form: data, maxRedirects: 0 })
  }
  assert.fail("the provider never redirected back to the app")
}

/** Navigates to `url` and asserts it ends on the sign-in page with `error`, without a session. */
async function assertFailsWith(page, context, url, error) {
  await page.goto(String(url))
  await page.waitForURL((u) => u.href.startsWith(`${AUTH_BASE}/signin?error=${error}`))
  assert.match(await page.content(), /class="error"/, "the sign-in page shows the error")
  assert.equal(await sessionCookie(context), undefined, "no session cookie")
  assert.deepEqual(await appSession(context), {})
}

test("sign in at the OpenID Provider and come back authenticated, then sign out", async () => {
  const { context, page } = await freshPage()
  await startSignIn(page)
  // The app set the encrypted check cookies before leaving.
  const names = (await context.cookies(APP_URL)).map((c) => c.name)
  for (const n of CHECK_COOKIES) assert.ok(names.includes(n), `${n} set before the redirect`)
  const authUrl = new URL(page.url())
  assert.equal(authUrl.origin, OP_URL)

  await loginAndConsent(page, "alice")
  // Back on the test page (the callbackUrl), cross-site, with a session.
  await page.waitForURL(PAGE_URL)
  await page.waitForSelector(`${byId("status")}:text-is("authenticated")`)
  assert.equal(await page.textContent(byId("user-email")), "alice@example.test")
  assert.equal(await page.textContent(byId("user-name")), "OIDC alice")
  const cookies = await context.cookies(APP_URL)
  for (const n of CHECK_COOKIES) assert.ok(!cookies.some((c) => c.name === n), `${n} deleted after sign-in`)
  const session = await sessionCookie(context)
  assert.ok(session?.httpOnly, "HttpOnly session cookie")
  assert.equal(session.sameSite, "Lax")

  await page.click(byId("signout-button"))
  await page.waitForSelector(`${byId("status")}:text-is("unauthenticated")`)
  assert.equal(await sessionCookie(context), undefined)
  assert.deepEqual(await appSession(context), {})
  assertNoProblems()
  await context.close()
})

test("a second sign-in reuses the provider session (no login form) and the same user", async () => {
  const { context, page } = await freshPage()
  await startSignIn(page)
  await loginAndConsent(page, "bob")
  await page.waitForSelector(`${byId("status")}:text-is("authenticated")`)
  await page.click(byId("signout-button"))
  await page.waitForSelector(`${byId("status")}:text-is("unauthenticated")`)
  // The provider remembers bob: consent given, session alive.
  await page.click(byId("oidc-signin-button"))
  await page.waitForURL(PAGE_URL)
  await page.waitForSelector(`${byId("status")}:text-is("authenticated")`)
  assert.equal(await page.textContent(byId("user-email")), "bob@example.test")
  assertNoProblems()
  await context.close()
})

test("the provider returns an error (the user cancels): Callback error page, no session", async () => {
  const { context, page } = await freshPage()
  await startSignIn(page)
  await page.click('a:has-text("[ Cancel ]")')
  await page.waitForURL((u) => u.href.startsWith(`${AUTH_BASE}/signin?error=Callback`))
  assert.equal(await sessionCookie(context), undefined)
  assert.deepEqual(await appSession(context), {})
  await context.close()
  problems.splice(0)
})

test("a tampered or missing state fails with OAuthCallback", async () => {
  const { context, page } = await freshPage()
  const cb = await captureCallback(page, context, "carol")
  const tampered = new URL(cb)
  const state = tampered.searchParams.get("state")
  assert.ok(state?.length === 43)
  tampered.searchParams.set("state", (state[0] === "A" ? "B" : "A") + state.slice(1))
  await assertFailsWith(page, context, tampered, "OAuthCallback")
  const missing = new URL(cb)
  missing.searchParams.delete("state")
  await assertFailsWith(page, context, missing, "OAuthCallback")
  // The check cookies survived the failures: the genuine callback still signs in.
  await page.goto(String(cb))
  await page.waitForURL(PAGE_URL)
  await page.waitForSelector(`${byId("status")}:text-is("authenticated")`)
  assert.equal(await page.textContent(byId("user-email")), "carol@example.test")
  await context.close()
  problems.splice(0)
})

test("a replayed callback (check cookies gone or absent) fails with OAuthCallback", async () => {
  const { context, page } = await freshPage()
  const cb = await captureCallback(page, context, "dave")
  await page.goto(String(cb))
  await page.waitForSelector(`${byId("status")}:text-is("authenticated")`)
  await page.click(byId("signout-button"))
  await page.waitForSelector(`${byId("status")}:text-is("unauthenticated")`)
  // Same browser, the check cookies were deleted on success.
  await assertFailsWith(page, context, cb, "OAuthCallback")
  // Another browser that never started a sign-in.
  const other = await freshPage()
  await assertFailsWith(other.page, other.context, cb, "OAuthCallback")
  await other.context.close()
  await context.close()
  problems.splice(0)
})

test("a wrong PKCE verifier is refused by the provider: OAuthCallback", async () => {
  const { context, page } = await freshPage()
  // Sign-in B stops before its callback; keep its (valid, encrypted) PKCE cookie.
  await captureCallback(page, context, "erin")
  const pkceB = (await context.cookies(APP_URL)).find((c) => c.name === "next-auth.pkce.code_verifier")
  assert.ok(pkceB)
  // Sign-in A, then its callback with B's verifier.
  const cbA = await captureCallback(page, context, "erin")
  const pkceA = (await context.cookies(APP_URL)).find((c) => c.name === "next-auth.pkce.code_verifier")
  assert.notEqual(pkceA.value, pkceB.value)
  await context.addCookies([{ ...pkceB }])
  await assertFailsWith(page, context, cbA, "OAuthCallback")
  await context.close()
  problems.splice(0)
})

test("hostile callback parameters end on an error page, never a server error", async () => {
  const { context, page } = await freshPage()
  const cb = await captureCallback(page, context, "frank")
  const variants = [
    `${CALLBACK}?${cb.searchParams}&state=again`,
    `${CALLBACK}?${cb.searchParams}&code=again`,
    `${CALLBACK}?code=%FF%FE&state=${cb.searchParams.get("state")}&iss=${encodeURIComponent(OP_URL)}`,
    `${CALLBACK}?code=${"A".repeat(10000)}&state=${cb.searchParams.get("state")}`,
    `${CALLBACK}?iss=https%3A%2F%2Fevil.example&code=${cb.searchParams.get("code")}&state=${cb.searchParams.get("state")}`,
    `${CALLBACK}`,
  ]
  for (const v of variants) {
    const res = await context.request.get(v, { maxRedirects: 0 })
    assert.equal(res.status(), 302, v)
    assert.match(res.headers().location, /\/api\/auth\/error\?error=(OAuthCallback|Callback)$/, v)
    assert.ok(!res.headers()["set-cookie"]?.includes(SESSION_COOKIE), v)
  }
  assert.equal(await sessionCookie(context), undefined)
  await context.close()
  problems.splice(0)
})
