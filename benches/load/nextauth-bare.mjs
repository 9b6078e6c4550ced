// The real next-auth 4.24.15 handler on a bare node:http server (no Next.js): the same
// NextAuth(req, res, options) call Next's pages router makes, with the few req/res helpers it
// uses (query, cookies, body, status, json, send). The baseline of the load comparison.
// Env: PORT, AUTH_SECRET.
import http from "node:http"
import { createRequire } from "node:module"

const require = createRequire(import.meta.url)
const PORT = Number(process.env.PORT)
const SECRET = process.env.AUTH_SECRET
if (!PORT || !SECRET) {
  console.error("nextauth-bare: PORT and AUTH_SECRET are required")
  process.exit(2)
}
process.env.NEXTAUTH_URL = `http://127.0.0.1:${PORT}`
process.env.NODE_ENV = "production"

const NextAuth = require("next-auth").default
const Credentials = require("next-auth/providers/credentials").default
const cookie = require("cookie")

const options = {
  secret: SECRET,
  session: { strategy: "jwt" },
  providers: [
    Credentials({
      name: "Credentials",
      credentials: { email: { label: "Email" }, password: { label: "Password", type: "password" } },
      async authorize() {
        return null
      },
    }),
  ],
}

function shim(res) {
  res.status = (code) => {
    res.statusCode = code
    return res
  }
  res.json = (body) => {
    res.setHeader("Content-Type", "application/json; charset=utf-8")
    res.end(JSON.stringify(body))
  }
  res.send = (body) => {
    if (body !== null && typeof body === "object") return res.json(body)
    res.end(body ?? "")
  }
  return res
}

http
  .createServer(async (req, res) => {
    const u = new URL(req.url, "http://x")
    const m = u.pathname.match(/^\/api\/auth\/(.*)$/)
    if (!m) {
      res.statusCode = 404
      return res.end()
    }
    let raw = ""
    for await (const c of req) raw += c
    req.query = { ...Object.fromEntries(u.searchParams), nextauth: m[1].split("/").filter(Boolean) }
    req.cookies = cookie.parse(req.headers.cookie ?? "")
    req.body = raw
      ? (req.headers["content-type"] ?? "").includes("json")
        ? JSON.parse(raw)
        : Object.fromEntries(new URLSearchParams(raw))
      : {}
    await NextAuth(req, shim(res), options)
  })
  .listen(PORT, "127.0.0.1", () => console.log(`nextauth-bare listening on ${PORT}`))
