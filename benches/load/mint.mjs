// Prints a session cookie value minted by the real next-auth/jwt encode() (AUTH_SECRET).
import { createRequire } from "node:module"
const require = createRequire(import.meta.url)
const { encode } = require("next-auth/jwt")
const token = await encode({
  secret: process.env.AUTH_SECRET,
  token: { name: "Load Test", email: "load@example.com", picture: null, sub: "42" },
})
process.stdout.write(token)
