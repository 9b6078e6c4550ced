// Browser test: Debian's headless chromium (driven by playwright-core) loads BASE_URL/static/index.html,
// a page bundling the REAL next-auth/react v4 client (app/main.jsx), and walks a user through
// sign-in, update, the helper calls and sign-out. Any console error or page error fails the test,
// except the ones listed in `expectedConsoleErrors`.
import { test, before, after } from "node:test"
import assert from "node:assert/strict"
import { existsSync } from "node:fs"
import { chromium } from "playwright-core"
import {
  AUTH_BASE,
  BASE_URL,
  EMAIL,
  HEX64,
  ISO_DATE,
  NAME,
  PASSWORD,
  SESSION_COOKIE,
} from "./helpers.mjs"

const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium"
const PAGE_URL = `${BASE_URL}/static/index.html`
const TIMEOUT = 15_000

let browser, context, page
const problems = [] // unexpected console errors, page errors, failed requests

/**
 * Console errors that are part of the scenario: Chromium logs "Failed to load resource" for every
 * 4xx fetch. The wrong-password sign-in answers 401 by design (spec §8.4); a favicon 404 is noise.
 */
function expectedConsoleError(msg) {
  const url = msg.location()?.url ?? ""
  const text = msg.text()
  if (/status of 404/.test(text) && /\/favicon\.ico$/.test(url)) return true
  if (/status of 401/.test(text) && url === `${AUTH_BASE}/callback/credentials`) return true
  return false
}

before(async () => {
  assert.ok(existsSync(CHROMIUM), `chromium not found at ${CHROMIUM} (apt-get install -y chromium)`)
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
  context = await browser.newContext()
  page = await context.newPage()
  page.setDefaultTimeout(TIMEOUT)
  page.on("console", (msg) => {
    if (msg.type() === "error" && !expectedConsoleError(msg)) {
      problems.push(`console.error: ${msg.text()} (${msg.location()?.url ?? "?"})`)
    }
  })
  page.on("pageerror", (err) => problems.push(`pageerror: ${err.stack ?? err}`))
  page.on("requestfailed", (req) => {
    const why = req.failure()?.errorText
    // ERR_ABORTED = cancelled by the page (e.g. a reload), not a server fault.
    if (why !== "net::ERR_ABORTED") problems.push(`requestfailed: ${req.method()} ${req.url()}: ${why}`)
  })
})

after(async () => {
  await browser?.close()
})

/** Fails with everything the page complained about since the last check (each is reported once). */
function assertNoProblems() {
  assert.deepEqual(problems.splice(0), [], "no console errors, page errors or failed requests")
}

const byId = (id) => `[data-testid="${id}"]`

async function text(id) {
  return (await page.textContent(byId(id))) ?? ""
}

/** Waits until the element's text equals `expected`; on timeout reports what it was. */
async function waitText(id, expected) {
  try {
    await page.waitForFunction(
      ([sel, exp]) => document.querySelector(sel)?.textContent === exp,
      [byId(id), expected],
      { timeout: TIMEOUT }
    )
  } catch (e) {
    assert.fail(`${id}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(await text(id))} (${e.message})`)
  }
}

/**
 * Clicks `button` and waits for the result box `result` to show a new outcome (its data-seq goes
 * up, see app/main.jsx). Returns the parsed JSON result; fails if the client call threw.
 */
async function act(button, result) {
  const box = page.locator(byId(result))
  const before = Number(await box.getAttribute("data-seq"))
  await page.click(byId(button))
  await page.waitForFunction(
    ([sel, n]) => Number(document.querySelector(sel)?.getAttribute("data-seq")) > n,
    [byId(result), before],
    { timeout: TIMEOUT }
  )
  const raw = await box.textContent()
  assert.equal(await box.getAttribute("data-state"), "ok", `${button} threw: ${raw}`)
  return raw === "undefined" ? undefined : JSON.parse(raw)
}

/** The session object as next-auth v4 returns it for the demo user (spec §8.2). */
function assertDemoSession(session) {
  assert.ok(session && typeof session === "object", `a session: ${JSON.stringify(session)}`)
  assert.deepEqual(Object.keys(session).sort(), ["expires", "user"])
  assert.equal(session.user.name, NAME)
  assert.equal(session.user.email, EMAIL)
  // The demo user has no image: next-auth leaves `image` out (undefined); null is the other
  // spelling of "no image" a JSON client cannot tell apart in practice.
  assert.ok(session.user.image === undefined || session.user.image === null, `image: ${session.user.image}`)
  for (const k of Object.keys(session.user)) assert.ok(["name", "email", "image"].includes(k), `user.${k}`)
  assert.match(session.expires, ISO_DATE)
}

async function sessionCookie() {
  return (await context.cookies(BASE_URL)).find((c) => c.name === SESSION_COOKIE)
}

test("next-auth/react client end to end", { timeout: 120_000 }, async (t) => {
  await t.test("page loads unauthenticated", async () => {
    const res = await page.goto(PAGE_URL)
    assert.equal(res?.status(), 200)
    await waitText("status", "unauthenticated")
    assert.equal(await text("user-name"), "")
    assert.equal(await text("session-json"), "null")
    assertNoProblems()
  })

  await t.test("getCsrfToken(): 64 hex chars", async () => {
    const token = await act("get-csrf-button", "get-csrf-result")
    assert.match(token, HEX64)
    // The same token is kept while the csrf cookie is valid.
    assert.equal(await act("get-csrf-button", "get-csrf-result"), token)
    assertNoProblems()
  })

  await t.test("getProviders(): credentials with absolute URLs", async () => {
    const providers = await act("get-providers-button", "get-providers-result")
    assert.deepEqual(providers.credentials, {
      id: "credentials",
      name: "Credentials",
      type: "credentials",
      signinUrl: `${AUTH_BASE}/signin/credentials`,
      callbackUrl: `${AUTH_BASE}/callback/credentials`,
    })
    assertNoProblems()
  })

  await t.test("getSession() without a session: null", async () => {
    assert.equal(await act("get-session-button", "get-session-result"), null)
    assertNoProblems()
  })

  await t.test("wrong password: CredentialsSignin, still unauthenticated", async () => {
    await page.fill(byId("email-input"), EMAIL)
    await page.fill(byId("password-input"), `${PASSWORD}-wrong`)
    const result = await act("signin-button", "signin-result")
    assert.deepEqual(result, { error: "CredentialsSignin", status: 401, ok: false, url: null })
    assert.equal(await text("status"), "unauthenticated")
    assert.equal(await sessionCookie(), undefined)
    assertNoProblems()
  })

  await t.test("right password: authenticated with the user's name and email", async () => {
    await page.fill(byId("password-input"), PASSWORD)
    const result = await act("signin-button", "signin-result")
    // callbackUrl defaults to window.location.href; the server answers it as an absolute URL.
    assert.deepEqual(result, { error: null, status: 200, ok: true, url: PAGE_URL })
    await waitText("status", "authenticated")
    assert.equal(await text("user-name"), NAME)
    assert.equal(await text("user-email"), EMAIL)
    assertDemoSession(JSON.parse(await text("session-json")))

    const cookie = await sessionCookie()
    assert.ok(cookie, "session cookie set")
    assert.equal(cookie.httpOnly, true)
    assert.equal(cookie.sameSite, "Lax")
    assert.equal(cookie.path, "/")
    assert.equal(cookie.secure, false)
    assertNoProblems()
  })

  await t.test("getSession(): the user's session", async () => {
    assertDemoSession(await act("get-session-button", "get-session-result"))
    assertNoProblems()
  })

  await t.test("update({name}) with default callbacks: session unchanged, also after reload", async () => {
    // next-auth's default jwt callback ignores update data (spec §8.3): POST /session answers the
    // current session, which update() then shows. An app must handle trigger === "update" itself.
    await page.fill(byId("update-name-input"), "Renamed By Update")
    const updated = await act("update-button", "update-result")
    assertDemoSession(updated)
    await waitText("status", "authenticated")
    assert.equal(await text("user-name"), NAME)

    await page.reload()
    await waitText("status", "authenticated")
    assert.equal(await text("user-name"), NAME)
    assert.equal(await text("user-email"), EMAIL)
    assertNoProblems()
  })

  await t.test("signOut({redirect:false}): unauthenticated, cookie gone", async () => {
    const result = await act("signout-button", "signout-result")
    assert.deepEqual(result, { url: PAGE_URL })
    await waitText("status", "unauthenticated")
    assert.equal(await text("user-name"), "")
    assert.equal(await sessionCookie(), undefined)
    assert.equal(await act("get-session-button", "get-session-result"), null)
    assertNoProblems()
  })
})
