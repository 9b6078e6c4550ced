// Drives the real @auth/pg-adapter for tessera-sqlx's interop test and prints JSON.
//
//   node interop.mjs write <database-url>
//       Creates the schema exactly as @auth/pg-adapter's documentation gives it, then
//       writes a user, an account, a session and a verification token through the JS
//       adapter. Prints what the adapter returned.
//
//   node interop.mjs read <database-url> <json-args>
//       Reads what Tessera wrote, through the JS adapter (and the raw account row, as
//       the adapter has no account getter). <json-args> names the records:
//       {"userId", "email", "provider", "providerAccountId", "sessionToken",
//        "identifier", "token"}. Then updates the user's name through the JS adapter.
import pg from "pg"
import PostgresAdapter from "@auth/pg-adapter"

// The schema of the @auth/pg-adapter documentation, verbatim.
const SCHEMA = `
CREATE TABLE verification_token
(
  identifier TEXT NOT NULL,
  expires TIMESTAMPTZ NOT NULL,
  token TEXT NOT NULL,

  PRIMARY KEY (identifier, token)
);

CREATE TABLE accounts
(
  id SERIAL,
  "userId" INTEGER NOT NULL,
  type VARCHAR(255) NOT NULL,
  provider VARCHAR(255) NOT NULL,
  "providerAccountId" VARCHAR(255) NOT NULL,
  refresh_token TEXT,
  access_token TEXT,
  expires_at BIGINT,
  id_token TEXT,
  scope TEXT,
  session_state TEXT,
  token_type TEXT,

  PRIMARY KEY (id)
);

CREATE TABLE sessions
(
  id SERIAL,
  "userId" INTEGER NOT NULL,
  expires TIMESTAMPTZ NOT NULL,
  "sessionToken" VARCHAR(255) NOT NULL,

  PRIMARY KEY (id)
);

CREATE TABLE users
(
  id SERIAL,
  name VARCHAR(255),
  email VARCHAR(255),
  "emailVerified" TIMESTAMPTZ,
  image TEXT,

  PRIMARY KEY (id)
);
`

async function write(adapter, pool) {
  await pool.query(SCHEMA)
  const user = await adapter.createUser({
    name: "Jés Script",
    email: "js-user@example.com",
    emailVerified: new Date("2024-05-01T12:34:56.789Z"),
    image: "https://example.com/js.png",
  })
  const account = await adapter.linkAccount({
    userId: user.id,
    type: "oidc",
    provider: "google",
    providerAccountId: "google-js-1",
    refresh_token: "js-refresh",
    access_token: "js-access",
    expires_at: 4102444800,
    token_type: "bearer",
    scope: "openid email",
    id_token: "eyJ.js.token",
    session_state: "js-state",
  })
  const session = await adapter.createSession({
    sessionToken: "js-session-token",
    userId: user.id,
    expires: new Date("2030-01-02T03:04:05.678Z"),
  })
  const token = await adapter.createVerificationToken({
    identifier: "js-user@example.com",
    token: "js-token-hash",
    expires: new Date("2030-06-07T08:09:10.000Z"),
  })
  return { user, account, session, token }
}

async function read(adapter, pool, args) {
  const user = await adapter.getUser(args.userId)
  const byEmail = await adapter.getUserByEmail(args.email)
  const byAccount = await adapter.getUserByAccount({
    provider: args.provider,
    providerAccountId: args.providerAccountId,
  })
  const { rows } = await pool.query(
    `select "userId", type, provider, "providerAccountId", refresh_token, access_token,
            expires_at, token_type, scope, id_token, session_state
     from accounts where provider = $1 and "providerAccountId" = $2`,
    [args.provider, args.providerAccountId]
  )
  const sessionAndUser = await adapter.getSessionAndUser(args.sessionToken)
  const token = await adapter.useVerificationToken({
    identifier: args.identifier,
    token: args.token,
  })
  const tokenAgain = await adapter.useVerificationToken({
    identifier: args.identifier,
    token: args.token,
  })
  const updated = await adapter.updateUser({ id: args.userId, name: "Renamed by JS" })
  return {
    user,
    byEmail,
    byAccount,
    accountRow: rows[0] ?? null,
    sessionAndUser,
    token,
    tokenAgain,
    updated,
  }
}

const [command, url, json] = process.argv.slice(2)
const pool = new pg.Pool({ connectionString: url, max: 2 })
try {
  const adapter = PostgresAdapter(pool)
  let out
  if (command === "write") out = await write(adapter, pool)
  else if (command === "read") out = await read(adapter, pool, JSON.parse(json))
  else throw new Error(`unknown command ${command}`)
  process.stdout.write(JSON.stringify(out))
} finally {
  await pool.end()
}
