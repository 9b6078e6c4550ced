// Reference server (the oracle of the e2e suite): the REAL next-auth 4.24.15 handler,
// `NextAuth(req, res, options)` mounted as a Next.js *pages* API route at /api/auth/[...nextauth]
// through Next's own apiResolver (its body parser and res.status/json/send helpers), exactly as
// the protocol vectors were recorded (shared/vectors/gen/gen-transcripts-v4.mjs). It also serves
// the bundled test page from .out/static/ at /static/, so the page and the auth API share one origin.
//
// Env: PORT (required), AUTH_SECRET (required), USERS_FILE (required; JSON array of
// {id, name, email, password}), HOST (default 127.0.0.1).
import http from "node:http"
import { createRequire } from "node:module"
import { readFileSync } from "node:fs"
import { readFile, stat } from "node:fs/promises"
import path from "node:path"
import { fileURLToPath } from "node:url"

const require = createRequire(import.meta.url)
const here = path.dirname(fileURLToPath(import.meta.url))

function requiredEnv(name) {
  const v = process.env[name]
  if (!v) {
    console.error(`ref-server: env ${name} is required`)
    process.exit(2)
  }
  return v
}

const PORT = Number(requiredEnv("PORT"))
const HOST = process.env.HOST || "127.0.0.1"
const SECRET = requiredEnv("AUTH_SECRET")
const USERS_FILE = requiredEnv("USERS_FILE")
const STATIC_DIR = path.resolve(process.env.STATIC_DIR || path.join(here, ".out", "static"))

// next-auth reads these at request time. NEXTAUTH_URL pins the origin + auth path (spec §2.2);
// production mode makes a missing secret a hard error instead of a derived dev secret.
process.env.NEXTAUTH_URL = `http://${HOST}:${PORT}`
process.env.NODE_ENV = "production"
delete process.env.NEXTAUTH_URL_INTERNAL
delete process.env.AUTH_TRUST_HOST
delete process.env.VERCEL

const NextAuth = require("next-auth").default
const Credentials = require("next-auth/providers/credentials").default
const { apiResolver } = require("next/dist/server/api-utils/node/api-resolver.js")

const users = JSON.parse(readFileSync(USERS_FILE, "utf8"))
if (!Array.isArray(users)) throw new Error(`${USERS_FILE}: expected a JSON array of users`)

/** next-auth options: JWT strategy (the default without an adapter), default callbacks. */
const authOptions = {
  secret: SECRET,
  session: { strategy: "jwt" },
  providers: [
    Credentials({
      id: "credentials",
      name: "Credentials",
      credentials: {
        email: { label: "Email", type: "email" },
        password: { label: "Password", type: "password" },
      },
      async authorize(credentials) {
        const u = users.find(
          (x) => x.email === credentials?.email && x.password === credentials?.password
        )
        // What a typical app returns: the user without its password (no `image`, so the
        // session's `user.image` is absent, not null).
        return u ? { id: String(u.id), name: u.name, email: u.email } : null
      },
    }),
  ],
}

const handler = (req, res) => NextAuth(req, res, authOptions)

const MIME = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".json": "application/json; charset=utf-8",
}

async function serveStatic(rel, res) {
  // Resolve inside STATIC_DIR only (no `..` escape).
  const file = path.resolve(STATIC_DIR, "." + path.posix.normalize("/" + rel))
  if (!file.startsWith(STATIC_DIR + path.sep)) return notFound(res)
  try {
    if (!(await stat(file)).isFile()) return notFound(res)
    const body = await readFile(file)
    res.writeHead(200, {
      "Content-Type": MIME[path.extname(file)] ?? "application/octet-stream",
      "Content-Length": body.length,
      "Cache-Control": "no-store",
    })
    res.end(body)
  } catch {
    notFound(res)
  }
}

function notFound(res) {
  res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" })
  res.end("Not Found")
}

const server = http.createServer(async (req, res) => {
  try {
    const u = new URL(req.url, "http://x")
    const auth = u.pathname.match(/^\/api\/auth\/(.*)$/)
    if (auth) {
      // What Next's router would give the [...nextauth] page: query params + the catch-all.
      const query = Object.fromEntries(u.searchParams)
      query.nextauth = auth[1].split("/").filter(Boolean)
      await apiResolver(
        req,
        res,
        query,
        { default: handler },
        { previewModeId: "x", previewModeEncryptionKey: "x", previewModeSigningKey: "x" },
        false, // minimalMode
        false, // dev
        "/api/auth/[...nextauth]"
      )
      return
    }
    if (u.pathname.startsWith("/static/")) {
      return await serveStatic(decodeURIComponent(u.pathname.slice("/static/".length)), res)
    }
    notFound(res)
  } catch (e) {
    console.error("ref-server: request failed", e)
    if (!res.headersSent) res.writeHead(500)
    res.end()
  }
})

server.listen(PORT, HOST, () => {
  console.log(`ref-server: next-auth 4.24.15 on http://${HOST}:${PORT}/api/auth, static ${STATIC_DIR}`)
})

for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => process.exit(0))
}
