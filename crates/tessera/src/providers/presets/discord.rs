//! Discord (OAuth 2.0), as next-auth's `Discord` provider, including the CDN avatar URLs.

use tessera_core::Secret;

use crate::oauth::{OAuthProvider, ProviderStyle, claim_str, user};

/// Discord.
pub fn discord(client_id: impl AsRef<str>, client_secret: impl Into<Secret>) -> OAuthProvider {
    OAuthProvider::oauth("discord", client_id, client_secret)
        .with_name("Discord")
        .with_authorization_url("https://discord.com/api/oauth2/authorize?scope=identify+email")
        .with_token_url("https://discord.com/api/oauth2/token")
        .with_userinfo_url("https://discord.com/api/users/@me")
        // Discord says whether the address is verified in `verified`.
        .with_email_verified_claim("verified")
        .with_profile(|p, _| {
            let id = claim_str(p, "id")?;
            let image = match claim_str(p, "avatar") {
                Some(hash) => {
                    let format = if hash.starts_with("a_") { "gif" } else { "png" };
                    format!("https://cdn.discordapp.com/avatars/{id}/{hash}.{format}")
                }
                None => {
                    // Default avatars: by discriminator for legacy names, else by id.
                    let n = match claim_str(p, "discriminator").as_deref() {
                        Some(d) if d != "0" => d.parse::<u64>().unwrap_or(0) % 5,
                        _ => (id.parse::<u64>().unwrap_or(0) >> 22) % 6,
                    };
                    format!("https://cdn.discordapp.com/embed/avatars/{n}.png")
                }
            };
            let name = claim_str(p, "global_name").or_else(|| claim_str(p, "username"));
            Some(user(id, name, claim_str(p, "email"), Some(image)))
        })
        .with_style(ProviderStyle::new("/discord.svg", "#5865F2", "#fff"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::TokenSet;

    /// `GET /users/@me` (discord.com/developers/docs/resources/user "Example User").
    const USER: &str = r#"{
      "id": "80351110224678912", "username": "nelly", "discriminator": "1337",
      "global_name": null, "avatar": "8342729096ea3675442027381ff50dfe", "verified": true,
      "email": "nelly@discord.com", "flags": 64, "banner": "06c16474723fe537c283b8efa61a30c8",
      "accent_color": 16711680, "premium_type": 1, "public_flags": 64, "mfa_enabled": true,
      "locale": "en-US"
    }"#;

    #[test]
    fn maps_the_user_profile() {
        let p = discord("id", "secret");
        let raw: serde_json::Value = serde_json::from_str(USER).unwrap();
        let u = p.map_profile(&raw, &TokenSet::default()).unwrap();
        assert_eq!(u.id, "80351110224678912");
        assert_eq!(u.name.as_deref(), Some("nelly"));
        assert_eq!(u.email.as_deref(), Some("nelly@discord.com"));
        assert_eq!(
            u.image.as_deref(),
            Some(
                "https://cdn.discordapp.com/avatars/80351110224678912/8342729096ea3675442027381ff50dfe.png"
            )
        );
        let mut raw = raw;
        raw["avatar"] = serde_json::Value::Null;
        let u = p.map_profile(&raw, &TokenSet::default()).unwrap();
        assert_eq!(
            u.image.as_deref(),
            Some("https://cdn.discordapp.com/embed/avatars/2.png")
        );
        raw["discriminator"] = "0".into();
        raw["global_name"] = "Nelly".into();
        let u = p.map_profile(&raw, &TokenSet::default()).unwrap();
        assert_eq!(u.name.as_deref(), Some("Nelly"));
        assert_eq!(
            u.image.as_deref(),
            Some(
                format!(
                    "https://cdn.discordapp.com/embed/avatars/{}.png",
                    (80351110224678912u64 >> 22) % 6
                )
                .as_str()
            )
        );
    }
}
