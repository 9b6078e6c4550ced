//! Session types: next-auth's default shape, extensible with the app's own fields.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The open set of extra fields: whatever the callbacks added, untyped.
pub type Extra = Map<String, Value>;

/// The `user` of next-auth's session (`{name, email, image}`), plus the app's fields `U`
/// (flattened: they sit next to `name` on the wire).
///
/// `U` defaults to [`Extra`], which keeps every extra field as JSON; declare a struct to read
/// them typed (see [`DefaultSession`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(bound(deserialize = "U: Deserialize<'de>", serialize = "U: Serialize"))]
#[non_exhaustive]
pub struct SessionUser<U = Extra> {
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Email.
    #[serde(default)]
    pub email: Option<String>,
    /// Avatar URL.
    #[serde(default)]
    pub image: Option<String>,
    /// The app's fields, filled by its `session` callback.
    #[serde(flatten)]
    pub extra: U,
}

/// next-auth's session shape (`{user, expires}`, as `GET /api/auth/session` returns it), plus
/// the app's user fields `U` and session fields `X`, both flattened so that the JSON on the wire
/// stays next-auth's shape with the app's fields added.
///
/// Declare the extension types with serde, fill them in the `jwt` / `session` callbacks (see
/// [`merge_json`]) and read them typed with `Session<DefaultSession<MyUser, MySession>>`:
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use tessera_axum::{DefaultSession, Session};
///
/// #[derive(Debug, Clone, Serialize, Deserialize)]
/// struct MyUser {
///     id: String,
///     role: String,
/// }
///
/// type MySession = DefaultSession<MyUser>;
///
/// async fn admin_only(session: Session<MySession>) -> String {
///     match &session.user {
///         Some(user) if user.extra.role == "admin" => format!("welcome, {}", user.extra.id),
///         _ => "admins only".to_owned(),
///     }
/// }
///
/// // On the wire: next-auth's shape plus the app's fields.
/// let wire = serde_json::json!({
///     "user": {"name": "Ada", "email": "ada@example.com", "image": null, "id": "1", "role": "admin"},
///     "expires": "2030-01-01T00:00:00.000Z"
/// });
/// let s: MySession = serde_json::from_value(wire.clone()).unwrap();
/// assert_eq!(s.user.as_ref().unwrap().extra.role, "admin");
/// assert_eq!(serde_json::to_value(&s).unwrap(), wire);
/// # let _ = axum::Router::<()>::new().route("/admin", axum::routing::get(admin_only));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(bound(
    deserialize = "U: Deserialize<'de>, X: Deserialize<'de>",
    serialize = "U: Serialize, X: Serialize"
))]
#[non_exhaustive]
pub struct DefaultSession<U = Extra, X = Extra> {
    /// The user.
    #[serde(default)]
    pub user: Option<SessionUser<U>>,
    /// When the session expires (ISO 8601).
    #[serde(default)]
    pub expires: String,
    /// The app's session-level fields, filled by its `session` callback.
    #[serde(flatten)]
    pub extra: X,
}

/// Adds the fields of `fields` (a struct or map, serialized with serde) to a JSON object: the
/// JWT claims in a `jwt` callback, or `session["user"]` in a `session` callback. Fields already
/// there are replaced; `None` values become `null` unless the struct skips them.
///
/// ```
/// use serde::Serialize;
/// use serde_json::json;
///
/// #[derive(Serialize)]
/// struct Role { role: &'static str }
///
/// let mut claims = json!({"sub": "1", "name": "Ada"}).as_object().cloned().unwrap();
/// tessera_axum::merge_json(&mut claims, &Role { role: "admin" }).unwrap();
/// assert_eq!(claims["role"], "admin");
/// assert_eq!(claims["sub"], "1");
/// ```
///
/// # Errors
///
/// When `fields` does not serialize to a JSON object (or fails to serialize).
pub fn merge_json<T: Serialize + ?Sized>(
    target: &mut Map<String, Value>,
    fields: &T,
) -> Result<(), serde_json::Error> {
    match serde_json::to_value(fields)? {
        Value::Object(map) => {
            target.extend(map);
            Ok(())
        }
        Value::Null => Ok(()),
        _ => Err(serde::ser::Error::custom(
            "merge_json expects a struct or a map",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, Deserialize, Serialize, PartialEq)]
    struct Ext {
        role: String,
    }

    #[test]
    fn default_shape_round_trips() {
        let wire = json!({"user": {"name": "A", "email": null, "image": null, "id": "7"}, "expires": "x", "theme": "dark"});
        let s: DefaultSession = serde_json::from_value(wire.clone()).unwrap();
        assert_eq!(s.user.as_ref().unwrap().extra["id"], "7");
        assert_eq!(s.extra["theme"], "dark");
        assert_eq!(serde_json::to_value(&s).unwrap(), wire);
    }

    #[test]
    fn typed_extensions() {
        let wire = json!({"user": {"name": "A", "role": "admin"}, "expires": "x"});
        let s: DefaultSession<Ext, ()> = serde_json::from_value(wire).unwrap();
        assert_eq!(
            s.user.unwrap().extra,
            Ext {
                role: "admin".into()
            }
        );
        let missing = json!({"user": {"name": "A"}, "expires": "x"});
        assert!(serde_json::from_value::<DefaultSession<Ext>>(missing).is_err());
    }

    #[test]
    fn merge() {
        let mut m = Map::new();
        merge_json(&mut m, &Ext { role: "r".into() }).unwrap();
        assert_eq!(m["role"], "r");
        assert!(merge_json(&mut m, &3).is_err());
        merge_json(&mut m, &()).unwrap();
    }
}
