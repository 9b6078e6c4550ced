// End-to-end test of examples/leptos-app (Leptos SSR + hydration with tessera-leptos) in
// headless Debian chromium, driven by playwright-core from tests/e2e/node_modules.
// Started by run.sh, which sets BASE_URL, EMAIL, PASSWORD, NAME, CHROMIUM_PATH, E2E_NODE_DIR.
//
// Every test uses a fresh browser context (its own cookies and localStorage) and fails on any
// unexpected console error, page error or failed request.
import { test, before, after } from "node:test"
import assert from "node:assert/strict"
import { createRequire } from "node:module"
import path from "node:path"

for (const name of ["BASE_URL", "EMAIL", "PASSWORD", "NAME", "E2E_NODE_DIR"]) {
  if (!process.env[name]) throw new Error(`env ${name} is required (run examples/leptos-app/e2e/run.sh)`)
}
const { BASE_URL, EMAIL, PASSWORD, NAME, E2E_NODE_DIR } = process.env
const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium"
const TIMEOUT = 15_000
const LABEL = `${NAME} <${EMAIL}>`

// playwright-core lives in tests/e2e/node_modules (ESM resolution would not find it from here).
const { chromium } = createRequire(path.join(E2E_NODE_DIR, "package.json"))("playwright-core")

let browser
before(async () => {
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

/** Console errors that belong to the scenario: the wrong-password sign-in answers 401. */
function expected(msg) {
  const url = msg.location()?.url ?? ""
  return /status of 401/.test(msg.text()) && url === `${BASE_URL}/api/auth/callback/credentials`
}

/** A fresh context whose pages report problems into `problems`. */
async function freshContext() {
  const context = await browser.newContext()
  const problems = []
  const watch = (page) => {
    page.setDefaultTimeout(TIMEOUT)
    page.on("console", (msg) => {
      if (msg.type() === "error" && !expected(msg)) {
        problems.push(`console.error: ${msg.text()} (${msg.location()?.url ?? "?"})`)
      }
    })
    page.on("pageerror", (e) => problems.push(`pageerror: ${e.stack ?? e}`))
    page.on("requestfailed", (r) => {
      // Navigations away from a page abort its pending requests; those are not failures.
      const why = r.failure()?.errorText ?? ""
      if (!/ERR_ABORTED/.test(why)) problems.push(`requestfailed: ${r.url()} ${why}`)
    })
  }
  context.on("page", watch)
  return {
    context,
    problems,
    async page(url) {
      const page = await context.newPage()
      if (url) await page.goto(url)
      return page
    },
    assertClean() {
      assert.deepEqual(problems, [], "unexpected browser errors")
    },
  }
}

const sel = (id) => `[data-testid="${id}"]`

async function waitText(page, id, expected) {
  await page.waitForFunction(
    ([s, e]) => document.querySelector(s)?.textContent === e,
    [sel(id), expected],
    { timeout: TIMEOUT }
  )
}

async function waitHydrated(page) {
  await waitText(page, "hydrated", "hydrated")
}

async function text(page, id) {
  return (await page.locator(sel(id)).textContent())?.trim()
}

/** Signs in through the app's form; ends on `callback`. */
async function signIn(page, callback = "/") {
  await page.goto(`${BASE_URL}/signin?callbackUrl=${encodeURIComponent(callback)}`)
  await waitHydrated(page)
  await page.fill(sel("email"), EMAIL)
  await page.fill(sel("password"), PASSWORD)
  await page.click(sel("signin-submit"))
  await page.waitForURL(`${BASE_URL}${callback}`)
  await waitText(page, "status", "authenticated")
}

test("signed out, the protected page is a server-side redirect to sign-in", async () => {
  const res = await fetch(`${BASE_URL}/protected`, {
    redirect: "manual",
    headers: { accept: "text/html" },
  })
  assert.ok([302, 303, 307].includes(res.status), `status ${res.status}`)
  assert.equal(
    res.headers.get("location"),
    "/signin?error=SessionRequired&callbackUrl=%2Fprotected"
  )

  const b = await freshContext()
  const page = await b.page(`${BASE_URL}/protected`)
  assert.equal(page.url(), `${BASE_URL}/signin?error=SessionRequired&callbackUrl=%2Fprotected`)
  await waitHydrated(page)
  assert.equal(await text(page, "status"), "unauthenticated")
  assert.equal(await text(page, "signin-reason"), "(SessionRequired)")
  b.assertClean()
  await b.context.close()
})

test("sign in with the form: a wrong password shows the error, the right one opens the page", async () => {
  const b = await freshContext()
  const page = await b.page(`${BASE_URL}/signin?callbackUrl=%2Fprotected`)
  await waitHydrated(page)
  assert.equal(await text(page, "status"), "unauthenticated")

  await page.fill(sel("email"), EMAIL)
  await page.fill(sel("password"), "wrong password")
  await page.click(sel("signin-submit"))
  await waitText(page, "signin-message", "Sign-in failed: CredentialsSignin")
  assert.equal(await text(page, "status"), "unauthenticated")

  await page.fill(sel("password"), PASSWORD)
  await page.click(sel("signin-submit"))
  // Client-side navigation to the callback, already signed in (sign_in waits for the refetch).
  await page.waitForURL(`${BASE_URL}/protected`)
  await waitText(page, "protected-user", `Welcome, ${LABEL}`)
  assert.equal(await text(page, "status"), "authenticated")
  assert.equal(await text(page, "user"), LABEL)
  const cookies = await b.context.cookies(BASE_URL)
  assert.ok(
    cookies.some((c) => c.name === "next-auth.session-token" && c.httpOnly),
    `session cookie: ${JSON.stringify(cookies.map((c) => c.name))}`
  )
  b.assertClean()
  await b.context.close()
})

test("signed in, the first paint of the protected page already shows the user", async () => {
  const b = await freshContext()
  const page = await b.page()
  await signIn(page, "/")

  // 1. The server's HTML, before any script runs.
  const res = await b.context.request.get(`${BASE_URL}/protected`, { maxRedirects: 0 })
  assert.equal(res.status(), 200)
  const html = await res.text()
  assert.match(html, /data-testid="protected-user"[^>]*>Welcome, /)
  assert.ok(html.includes(NAME), "the user's name is in the server HTML")
  assert.ok(html.includes(EMAIL), "the user's email is in the server HTML")
  assert.match(html, /data-testid="status"[^>]*>authenticated</)
  assert.ok(!html.includes('data-testid="protected-loading"'), "no loading state in the server HTML")
  assert.ok(!html.includes('data-testid="loading"'), "no loading header in the server HTML")
  assert.match(html, /data-testid="hydrated"[^>]*>server</)

  // 2. In the browser: record every DOM state from the first byte to well after hydration.
  const tab = await b.context.newPage()
  await tab.addInitScript(() => {
    window.__states = []
    const check = () => {
      const loading = document.querySelector('[data-testid="protected-loading"], [data-testid="loading"]')
      const user = document.querySelector('[data-testid="protected-user"]')
      window.__states.push(loading ? "loading" : user ? "user" : "none")
    }
    new MutationObserver(check).observe(document, { childList: true, subtree: true, characterData: true })
    document.addEventListener("DOMContentLoaded", check)
  })
  const sessionRequests = []
  tab.on("request", (r) => {
    if (new URL(r.url()).pathname === "/api/auth/session") sessionRequests.push(r.method())
  })
  await tab.goto(`${BASE_URL}/protected`)
  await waitHydrated(tab)
  await tab.waitForTimeout(500)
  const states = await tab.evaluate(() => window.__states)
  assert.ok(!states.includes("loading"), `a loading state was shown: ${states.join(",")}`)
  assert.ok(states.includes("user"), `the user was never shown: ${states.join(",")}`)
  assert.equal(await text(tab, "protected-user"), `Welcome, ${LABEL}`)
  // Hydrated from the server's session: no session request on load.
  assert.deepEqual(sessionRequests, [], "the session was fetched although the server rendered it")
  b.assertClean()
  await b.context.close()
})

test("signing out in one tab updates the other tabs", async () => {
  const b = await freshContext()
  const a = await b.page()
  await signIn(a, "/protected")
  await waitText(a, "protected-user", `Welcome, ${LABEL}`)

  const home = await b.page(`${BASE_URL}/`)
  await waitHydrated(home)
  assert.equal(await text(home, "status"), "authenticated")
  await home.evaluate(() => (window.__sameDocument = true))
  const guarded = await b.page(`${BASE_URL}/protected`)
  await waitHydrated(guarded)
  assert.equal(await text(guarded, "protected-user"), `Welcome, ${LABEL}`)

  await a.click(sel("signout"))
  // The tab that signed out: its protected page sends it to sign in.
  await a.waitForURL(/\/signin\?error=SessionRequired&callbackUrl=/)
  // The other tabs follow through localStorage["nextauth.message"], without reloading.
  await waitText(home, "status", "unauthenticated")
  assert.equal(await home.evaluate(() => window.__sameDocument), true, "the home tab did not reload")
  await guarded.waitForURL(/\/signin\?error=SessionRequired&callbackUrl=/)

  // The message is next-auth/react's, byte for byte in shape.
  const raw = await home.evaluate(() => localStorage.getItem("nextauth.message"))
  const msg = JSON.parse(raw)
  assert.deepEqual(Object.keys(msg), ["event", "data", "timestamp"])
  assert.equal(msg.event, "session")
  assert.deepEqual(msg.data, { trigger: "signout" })
  assert.ok(Math.abs(msg.timestamp - Date.now() / 1000) < 120, `timestamp ${msg.timestamp}`)
  b.assertClean()
  await b.context.close()
})

/** Signs out or in from the page's own fetch, as another client would: no broadcast. */
async function silently(page, action) {
  await page.evaluate(
    async ([action, email, password]) => {
      const { csrfToken } = await (await fetch("/api/auth/csrf")).json()
      const form =
        action === "signout"
          ? { csrfToken, json: "true" }
          : { csrfToken, json: "true", email, password }
      const res = await fetch(action === "signout" ? "/api/auth/signout" : "/api/auth/callback/credentials", {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams(form),
      })
      if (!res.ok) throw new Error(`${action}: HTTP ${res.status}`)
    },
    [action, EMAIL, PASSWORD]
  )
}

test("becoming visible and coming back online refetch the session", async () => {
  const b = await freshContext()
  const page = await b.page()
  await signIn(page, "/")

  // Signed out behind the tab's back: it notices when it becomes visible again.
  await silently(page, "signout")
  await page.waitForTimeout(300)
  assert.equal(await text(page, "status"), "authenticated", "nothing told the tab yet")
  await page.evaluate(() => document.dispatchEvent(new Event("visibilitychange", { bubbles: true })))
  await waitText(page, "status", "unauthenticated")

  // Signed in again (the server renders it), then signed out behind its back: `online`.
  await silently(page, "signin")
  await page.reload()
  await waitHydrated(page)
  assert.equal(await text(page, "status"), "authenticated")
  await silently(page, "signout")
  await page.evaluate(() => window.dispatchEvent(new Event("online")))
  await waitText(page, "status", "unauthenticated")
  b.assertClean()
  await b.context.close()
})

test("update() from the browser answers the refreshed session", async () => {
  const b = await freshContext()
  const page = await b.page()
  await signIn(page, "/")
  await page.click(sel("update"))
  await waitText(page, "update-result", `updated: ${LABEL}`)
  assert.equal(await text(page, "status"), "authenticated")
  b.assertClean()
  await b.context.close()
})

test("a next-auth/react tab and a Leptos tab of one site stay in step", async () => {
  const b = await freshContext()
  const rust = await b.page(`${BASE_URL}/`)
  await waitHydrated(rust)
  assert.equal(await text(rust, "status"), "unauthenticated")
  // tests/e2e/app: the real next-auth/react client, served by the Leptos app at /static/.
  const js = await b.page(`${BASE_URL}/static/index.html`)
  await waitText(js, "status", "unauthenticated")

  // JS tab signs in; next-auth's signIn() does not broadcast, its getSession() does.
  await js.fill(sel("email-input"), EMAIL)
  await js.fill(sel("password-input"), PASSWORD)
  await js.click(sel("signin-button"))
  await waitText(js, "status", "authenticated")
  // next-auth/react's message carries Unix seconds and a storage event only fires on a change:
  // its getSession() broadcast right after the one it made on load, within the same second,
  // would reach no tab (JS or Rust). Let the second turn.
  await js.waitForTimeout(1100)
  await js.click(sel("get-session-button"))
  await waitText(rust, "status", "authenticated")
  assert.equal(await text(rust, "user"), LABEL)

  // Leptos tab signs out → the JS tab follows.
  await rust.click(sel("signout"))
  await waitText(rust, "status", "unauthenticated")
  await waitText(js, "status", "unauthenticated")

  // Leptos tab signs in → the JS tab follows (tessera-leptos broadcasts after signing in).
  await signIn(rust, "/")
  await waitText(js, "status", "authenticated")
  assert.equal(await text(js, "user-email"), EMAIL)
  b.assertClean()
  await b.context.close()
})
