// Email (magic link) end to end, run by run.sh:
//   * two real SMTP servers on 127.0.0.1 (npm smtp-server, messages parsed by mailparser): one
//     plain with AUTH (STARTTLS hidden), one offering STARTTLS with a certificate from a private CA;
//   * the real tessera-server binary, configured by TOML with four email providers
//     (`email`, `email-short` with a 2 s max_age, `email-tls` with requireTLS + tls_ca_file,
//     `email-down` pointing at a closed port);
//   * the real next-auth/react client (tests/e2e/app, served at /static/) in headless Debian
//     chromium, driven by playwright-core.
// The link is read out of the received message and opened in the browser; the client must show
// the user signed in. Reused, expired and tampered links must end on the Verification error with
// no session; a dead SMTP server must give EmailSignin; the per-address limit must hold.
import { test, before, after } from "node:test"
import assert from "node:assert/strict"
import { spawn } from "node:child_process"
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import net from "node:net"
import path from "node:path"
import { randomBytes } from "node:crypto"
import { SMTPServer } from "smtp-server"
import { simpleParser } from "mailparser"
import { chromium } from "playwright-core"

function env(name) {
  const v = process.env[name]
  if (!v) throw new Error(`env ${name} is required (run through tests/email/run.sh)`)
  return v
}

const BIN = env("TESSERA_BIN")
const STATIC_DIR = env("STATIC_DIR")
const WORK = env("WORK_DIR")
const TLS_CA = env("TLS_CA")
const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium"
const TIMEOUT = 15_000

const SMTP_USER = "mailer"
const SMTP_PASS = "p@ss:w/rd %secret" // exercises percent-decoding of the server URL
const FROM = "Tessera Test <no-reply@tessera.test>"
const SECRET = randomBytes(32).toString("hex")

let plainSmtp, tlsSmtp, server, browser
let BASE_URL, AUTH_BASE, PAGE_URL
const mails = [] // {server: "plain"|"tls", envelope, secure, user, mail}
let serverLog = ""

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    s.once("error", reject)
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
}

function smtpServer(name, options) {
  const srv = new SMTPServer({
    logger: false,
    banner: `tessera e2e ${name}`,
    authMethods: ["PLAIN", "LOGIN"],
    allowInsecureAuth: true,
    onAuth(auth, _session, cb) {
      if (auth.username === SMTP_USER && auth.password === SMTP_PASS) cb(null, { user: auth.username })
      else cb(new Error("Invalid username or password"))
    },
    onData(stream, session, cb) {
      simpleParser(stream).then(
        (mail) => {
          mails.push({ server: name, envelope: session.envelope, secure: session.secure, user: session.user, mail })
          cb()
        },
        (err) => cb(err)
      )
    },
    ...options,
  })
  return new Promise((resolve, reject) => {
    srv.once("error", reject)
    srv.listen(0, "127.0.0.1", () => resolve(srv))
  })
}

const mailsTo = (addr) => mails.filter((m) => m.envelope.rcptTo.some((r) => r.address === addr))

async function waitForMail(addr, count = 1) {
  const deadline = Date.now() + TIMEOUT
  while (Date.now() < deadline) {
    const got = mailsTo(addr)
    if (got.length >= count) return got[count - 1]
    await new Promise((r) => setTimeout(r, 50))
  }
  assert.fail(`no mail #${count} for ${addr} within ${TIMEOUT} ms (got ${mailsTo(addr).length}); server log:\n${serverLog}`)
}

/** The sign-in link from the plain-text part; the HTML part must carry the same link. */
function linkOf(entry) {
  const m = entry.mail.text.match(/https?:\/\/\S+\/api\/auth\/callback\/[\w-]+\?\S+/)
  assert.ok(m, `a link in the text part: ${entry.mail.text}`)
  const link = m[0]
  const escaped = link.replaceAll("&", "&amp;")
  assert.ok(entry.mail.html.includes(`href="${escaped}"`), "the HTML button links to the same URL")
  return link
}

before(async () => {
  assert.ok(existsSync(BIN), `tessera-server binary: ${BIN}`)
  assert.ok(existsSync(path.join(STATIC_DIR, "index.html")), `test page: ${STATIC_DIR}`)
  assert.ok(existsSync(CHROMIUM), `chromium: ${CHROMIUM}`)

  plainSmtp = await smtpServer("plain", { hideSTARTTLS: true })
  tlsSmtp = await smtpServer("tls", {
    key: readFileSync(env("TLS_KEY")),
    cert: readFileSync(env("TLS_CERT")),
  })
  const downPort = await freePort() // nothing listens there
  const port = await freePort()
  BASE_URL = `http://127.0.0.1:${port}`
  AUTH_BASE = `${BASE_URL}/api/auth`
  PAGE_URL = `${BASE_URL}/static/index.html`

  const auth = `${encodeURIComponent(SMTP_USER)}:${encodeURIComponent(SMTP_PASS)}`
  const plainUrl = `smtp://${auth}@127.0.0.1:${plainSmtp.server.address().port}`
  const tlsUrl = `smtp://${auth}@127.0.0.1:${tlsSmtp.server.address().port}?requireTLS=true`
  mkdirSync(path.join(WORK, "data"), { recursive: true })
  const config = path.join(WORK, "tessera.toml")
  const common = `from = ${JSON.stringify(FROM)}\nmax_emails_per_ip = 100\n`
  writeFileSync(
    config,
    `[server]
host = "127.0.0.1"
static_dir = ${JSON.stringify(STATIC_DIR)}
data_dir = ${JSON.stringify(path.join(WORK, "data"))}

[[providers]]
type = "email"
server = ${JSON.stringify(plainUrl)}
${common}max_emails_per_address = 3

[[providers]]
type = "email"
id = "email-short"
name = "Email (2 s links)"
server = ${JSON.stringify(plainUrl)}
${common}max_age = 2

[[providers]]
type = "email"
id = "email-tls"
name = "Email over STARTTLS"
server = ${JSON.stringify(tlsUrl)}
tls_ca_file = ${JSON.stringify(TLS_CA)}
${common}
[[providers]]
type = "email"
id = "email-down"
name = "Email (server down)"
server = "smtp://127.0.0.1:${downPort}"
${common}`
  )
  server = spawn(BIN, ["--config", config], {
    env: { ...process.env, AUTH_SECRET: SECRET, AUTH_URL: BASE_URL, PORT: String(port), HOST: "127.0.0.1", RUST_LOG: "info" },
    stdio: ["ignore", "pipe", "pipe"],
  })
  server.stdout.on("data", (d) => (serverLog += d))
  server.stderr.on("data", (d) => (serverLog += d))
  const deadline = Date.now() + 60_000
  for (;;) {
    if (server.exitCode !== null) assert.fail(`tessera-server exited (${server.exitCode}):\n${serverLog}`)
    try {
      const r = await fetch(`${AUTH_BASE}/csrf`)
      if (r.status === 200) break
    } catch {}
    if (Date.now() > deadline) assert.fail(`tessera-server did not answer within 60 s:\n${serverLog}`)
    await new Promise((r) => setTimeout(r, 200))
  }

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
  if (server && server.exitCode === null) {
    server.kill("SIGTERM")
    await new Promise((r) => server.once("exit", r))
  }
  await new Promise((r) => (plainSmtp ? plainSmtp.close(r) : r()))
  await new Promise((r) => (tlsSmtp ? tlsSmtp.close(r) : r()))
})

// --- browser helpers ---------------------------------------------------------------------------

const byId = (id) => `[data-testid="${id}"]`

/** A fresh browser profile on the test page; page errors and failed requests are collected. */
async function openApp() {
  const context = await browser.newContext()
  const page = await context.newPage()
  page.setDefaultTimeout(TIMEOUT)
  const problems = []
  page.on("pageerror", (err) => problems.push(`pageerror: ${err.stack ?? err}`))
  page.on("requestfailed", (req) => {
    const why = req.failure()?.errorText
    if (why !== "net::ERR_ABORTED") problems.push(`requestfailed: ${req.method()} ${req.url()}: ${why}`)
  })
  await page.goto(PAGE_URL)
  await waitText(page, "status", "unauthenticated")
  return { context, page, problems }
}

async function waitText(page, id, expected) {
  try {
    await page.waitForFunction(([sel, exp]) => document.querySelector(sel)?.textContent === exp, [byId(id), expected], {
      timeout: TIMEOUT,
    })
  } catch (e) {
    const got = await page.textContent(byId(id)).catch(() => "?")
    assert.fail(`${id}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(got)} (${e.message})`)
  }
}

/** Types the address (and provider), clicks "Email me a sign-in link", returns signIn()'s result. */
async function requestLink(page, email, provider = "email") {
  await page.fill(byId("email-signin-input"), email)
  await page.fill(byId("email-provider-input"), provider)
  const box = page.locator(byId("email-signin-result"))
  const seq = Number(await box.getAttribute("data-seq"))
  await page.click(byId("email-signin-button"))
  await page.waitForFunction(([sel, n]) => Number(document.querySelector(sel)?.getAttribute("data-seq")) > n, [
    byId("email-signin-result"),
    seq,
  ])
  assert.equal(await box.getAttribute("data-state"), "ok", await box.textContent())
  return JSON.parse(await box.textContent())
}

/** Opens `link` in a fresh profile and checks it ends on the Verification error without a session. */
async function assertRefused(link, why) {
  const context = await browser.newContext()
  const page = await context.newPage()
  page.setDefaultTimeout(TIMEOUT)
  const res = await page.goto(link)
  assert.equal(page.url(), `${AUTH_BASE}/error?error=Verification`, `${why}: ends on the Verification error`)
  assert.equal(res.status(), 403, why)
  assert.match(await page.textContent("body"), /sign in link is no longer valid/i, why)
  const cookies = await context.cookies()
  assert.ok(!cookies.some((c) => c.name.includes("session-token")), `${why}: no session cookie`)
  await page.goto(PAGE_URL)
  await waitText(page, "status", "unauthenticated")
  await context.close()
}

/** A link's query, changed. */
function withParam(link, name, value) {
  const u = new URL(link)
  u.searchParams.set(name, value)
  return u.toString()
}

/** POST /signin/<provider> with a fresh CSRF token, as the client does (json=true). */
async function postSignIn(email, provider = "email") {
  const r = await fetch(`${AUTH_BASE}/csrf`)
  const { csrfToken } = await r.json()
  const cookie = r.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .join("; ")
  const res = await fetch(`${AUTH_BASE}/signin/${provider}`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Cookie: cookie },
    body: new URLSearchParams({ email, csrfToken, callbackUrl: PAGE_URL, json: "true" }).toString(),
    redirect: "manual",
  })
  assert.equal(res.status, 200)
  return (await res.json()).url
}

const VERIFY = () => `${AUTH_BASE}/verify-request?provider=email&type=email`

// --- tests -------------------------------------------------------------------------------------

let firstLink

test("a link from a real SMTP server signs the next-auth/react client in", async () => {
  const { context, page, problems } = await openApp()
  const result = await requestLink(page, "Reader@Example.COM")
  assert.deepEqual(result, { error: null, status: 200, ok: true, url: VERIFY() })

  const entry = await waitForMail("reader@example.com")
  assert.equal(entry.server, "plain")
  assert.equal(entry.user, SMTP_USER, "the transport authenticated")
  assert.equal(entry.envelope.mailFrom.address, "no-reply@tessera.test")
  assert.deepEqual(entry.envelope.rcptTo.map((r) => r.address), ["reader@example.com"])
  const { mail } = entry
  const host = new URL(BASE_URL).host
  assert.equal(mail.subject, `Sign in to ${host}`)
  assert.equal(mail.from.text, '"Tessera Test" <no-reply@tessera.test>')
  assert.equal(mail.to.text, "reader@example.com")
  assert.equal(mail.attachments.length, 0)
  // Self-contained HTML: no images, scripts, remote styles or any URL but the link.
  for (const bad of ["<img", "<script", "<link", "url(", "@import", "src="]) {
    assert.ok(!mail.html.includes(bad), `no ${bad} in the HTML`)
  }
  const link = linkOf(entry)
  const urls = mail.html.match(/https?:\/\/[^"\s<]+/g) ?? []
  assert.deepEqual([...new Set(urls.map((u) => u.replaceAll("&amp;", "&")))], [link], "the only URL is the link")
  const u = new URL(link)
  assert.equal(`${u.origin}${u.pathname}`, `${AUTH_BASE}/callback/email`)
  assert.deepEqual([...u.searchParams.keys()], ["callbackUrl", "token", "email"])
  assert.equal(u.searchParams.get("callbackUrl"), PAGE_URL)
  assert.match(u.searchParams.get("token"), /^[0-9a-f]{64}$/)
  assert.equal(u.searchParams.get("email"), "reader@example.com")

  await page.goto(link)
  assert.equal(page.url(), PAGE_URL, "the link lands on the callbackUrl")
  await waitText(page, "status", "authenticated")
  await waitText(page, "user-email", "reader@example.com")
  const session = JSON.parse(await page.textContent(byId("session-json")))
  assert.equal(session.user.email, "reader@example.com")
  assert.ok((await context.cookies()).some((c) => c.name === "next-auth.session-token" && c.httpOnly))
  assert.deepEqual(problems, [])
  await context.close()
  firstLink = link
  assert.ok(!serverLog.includes(SMTP_PASS), "the SMTP password never reaches the log")
})

test("the same link a second time ends on Verification with no session", async () => {
  assert.ok(firstLink, "the first test ran")
  await assertRefused(firstLink, "reused link")
})

test("a link with a changed email or token ends on Verification; the real one still works", async () => {
  assert.equal(await postSignIn("tamper@example.com"), VERIFY())
  const link = linkOf(await waitForMail("tamper@example.com"))
  const token = new URL(link).searchParams.get("token")
  const otherToken = (token[0] === "a" ? "b" : "a") + token.slice(1)
  await assertRefused(withParam(link, "email", "attacker@example.com"), "changed email")
  await assertRefused(withParam(link, "email", "Tamper@example.com"), "changed case of the email")
  await assertRefused(withParam(link, "token", otherToken), "changed token")
  await assertRefused(withParam(link, "token", `${token}00`), "longer token")
  const { context, page } = await openApp()
  await page.goto(link)
  await waitText(page, "status", "authenticated")
  await waitText(page, "user-email", "tamper@example.com")
  await context.close()
})

test("an expired link ends on Verification with no session", async () => {
  const { context, page } = await openApp()
  const result = await requestLink(page, "late@example.com", "email-short")
  assert.equal(result.url, `${AUTH_BASE}/verify-request?provider=email-short&type=email`)
  const entry = await waitForMail("late@example.com")
  assert.match(entry.mail.text, /valid for a few minutes/)
  const link = linkOf(entry)
  await context.close()
  await new Promise((r) => setTimeout(r, 3_200)) // max_age = 2 s
  await assertRefused(link, "expired link")
})

test("STARTTLS with a private CA delivers, and that link works", async () => {
  const { context, page } = await openApp()
  const result = await requestLink(page, "secure@example.com", "email-tls")
  assert.equal(result.ok, true)
  assert.equal(result.error, null)
  const entry = await waitForMail("secure@example.com")
  assert.equal(entry.server, "tls")
  assert.equal(entry.secure, true, "the session was upgraded with STARTTLS")
  await page.goto(linkOf(entry))
  await waitText(page, "status", "authenticated")
  await waitText(page, "user-email", "secure@example.com")
  await context.close()
})

test("an SMTP server that is down gives EmailSignin", async () => {
  const { context, page } = await openApp()
  const before = mails.length
  const result = await requestLink(page, "nobody@example.com", "email-down")
  assert.deepEqual(result, { error: "EmailSignin", status: 200, ok: true, url: null })
  await waitText(page, "status", "unauthenticated")
  await new Promise((r) => setTimeout(r, 300))
  assert.equal(mails.length, before)
  await context.close()
})

test("the per-address limit answers the same and sends nothing more", async () => {
  const answers = []
  for (let i = 0; i < 5; i++) answers.push(await postSignIn("limited@example.com"))
  assert.deepEqual(answers, Array(5).fill(VERIFY()), "no difference visible to the client")
  await waitForMail("limited@example.com", 3)
  await new Promise((r) => setTimeout(r, 500))
  assert.equal(mailsTo("limited@example.com").length, 3, "max_emails_per_address = 3")
})

test("header injection in the address is refused and nothing is sent", async () => {
  const before = mails.length
  for (const email of [
    "victim@example.com\r\nBcc: evil@example.com",
    "victim@example.com\nBcc: evil@example.com",
    "victim@example.com,evil.example",
    "\"evil@example.com\"@example.com",
  ]) {
    const url = await postSignIn(email)
    if (email.includes(",")) {
      // next-auth's normalisation keeps the first domain item: victim@example.com only.
      assert.equal(url, VERIFY(), email)
    } else {
      assert.equal(url, `${AUTH_BASE}/error?error=EmailSignin`, JSON.stringify(email))
    }
  }
  await new Promise((r) => setTimeout(r, 500))
  assert.equal(mailsTo("evil@example.com").length, 0)
  assert.equal(mails.length, before + 1)
  assert.deepEqual(mails.at(-1).envelope.rcptTo.map((r) => r.address), ["victim@example.com"])
})
