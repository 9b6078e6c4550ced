// A real OpenID Provider for the end-to-end test: the npm package `oidc-provider` with its own
// development login and consent pages (devInteractions).
//
// Env: OP_HOST (e.g. 127.0.0.2), OP_PORT, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI.
// Any login name is accepted (the password is ignored); the account's claims are derived
// from it: sub = login, email = <login>@example.test, name = "OIDC <login>".
import Provider from "oidc-provider"

const { OP_HOST, OP_PORT, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI } = process.env
for (const [k, v] of Object.entries({ OP_HOST, OP_PORT, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI })) {
  if (!v) {
    console.error(`provider.mjs: ${k} is required`)
    process.exit(2)
  }
}
const issuer = `http://${OP_HOST}:${OP_PORT}`

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      redirect_uris: [REDIRECT_URI],
      grant_types: ["authorization_code"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic",
    },
  ],
  claims: {
    openid: ["sub"],
    email: ["email", "email_verified"],
    profile: ["name"],
  },
  async findAccount(_ctx, id) {
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: `${id}@example.test`, email_verified: true, name: `OIDC ${id}` }
      },
    }
  },
  // PKCE for every client, not only public ones: a wrong verifier must fail at the token endpoint.
  pkce: { required: () => true },
  cookies: { keys: ["tessera-oidc-e2e-cookie-key"] },
  features: { devInteractions: { enabled: true } },
})
// Log every error the provider reports (invalid_grant on a bad PKCE verifier, ...).
provider.on("server_error", (_ctx, err) => console.error("server_error", err))
provider.on("grant.error", (_ctx, err) => console.error("grant.error", err.message, err.error_description ?? ""))
provider.on("authorization.error", (_ctx, err) => console.error("authorization.error", err.message))

provider.listen(Number(OP_PORT), OP_HOST, () => {
  console.log(`oidc-provider ready at ${issuer}`)
})
