//! Session types: next-auth's default shape, extensible with the app's own fields.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// The open set of extra fields: whatever the callbacks added, untyped.
pub type Extra = Map<String, Value>;

/// The `user` of next-auth's session (`{name, email, image}`), plus the app's fields `U`
/// (flattened: they sit next to `name` on the wire).
///
/// `U` defaults to [`Extra`], which keeps every extra field as JSON; declare a struct to read
/// them typed (see [`DefaultSession`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(bound(serialize = "U: Serialize"))]
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
/// [`merge_json`]) and read them typed with `Session<DefaultSession<MyUser, MySession>>`.
/// The extensions read as serde's `flatten` reads them, with one difference: for an
/// `Option<T>` extension, extra fields that do not fit `T` are an error (the extractor then
/// rejects the session as not fitting its type) rather than a silent `None`.
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
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(bound(serialize = "U: Serialize, X: Serialize"))]
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

// Deserialization, written out: serde's derive buffers every field of a struct with a
// `flatten` field (and copies its strings) before handing the rest on; every request that
// extracts a session runs this. Same contract as the derive would have: known fields by name
// (`null` or missing is `None` / empty), a repeated known field is an error, every other field
// goes to the flattened type.

impl<'de, U: Deserialize<'de>> Deserialize<'de> for SessionUser<U> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit<U>(PhantomData<U>);
        impl<'de, U: Deserialize<'de>> Visitor<'de> for Visit<U> {
            type Value = SessionUser<U>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a session user object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let (mut name, mut email, mut image) = (None, None, None);
                let mut rest = Map::new();
                while let Some(Key(key)) = map.next_key()? {
                    let slot = match &*key {
                        "name" => &mut name,
                        "email" => &mut email,
                        "image" => &mut image,
                        _ => {
                            rest.insert(key.into_owned(), map.next_value()?);
                            continue;
                        }
                    };
                    if slot.is_some() {
                        return Err(de::Error::custom(format_args!("duplicate field `{key}`")));
                    }
                    *slot = Some(map.next_value::<Option<String>>()?);
                }
                Ok(SessionUser {
                    name: name.flatten(),
                    email: email.flatten(),
                    image: image.flatten(),
                    extra: U::deserialize(Rest(rest)).map_err(de::Error::custom)?,
                })
            }
        }
        deserializer.deserialize_map(Visit(PhantomData))
    }
}

impl<'de, U: Deserialize<'de>, X: Deserialize<'de>> Deserialize<'de> for DefaultSession<U, X> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit<U, X>(PhantomData<(U, X)>);
        impl<'de, U: Deserialize<'de>, X: Deserialize<'de>> Visitor<'de> for Visit<U, X> {
            type Value = DefaultSession<U, X>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a session object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let (mut user, mut expires) = (None, None);
                let mut rest = Map::new();
                while let Some(Key(key)) = map.next_key()? {
                    match &*key {
                        "user" if user.is_some() => {
                            return Err(de::Error::custom("duplicate field `user`"));
                        }
                        "user" => user = Some(map.next_value::<Option<SessionUser<U>>>()?),
                        "expires" if expires.is_some() => {
                            return Err(de::Error::custom("duplicate field `expires`"));
                        }
                        "expires" => expires = Some(map.next_value::<String>()?),
                        _ => {
                            rest.insert(key.into_owned(), map.next_value()?);
                        }
                    }
                }
                Ok(DefaultSession {
                    user: user.flatten(),
                    expires: expires.unwrap_or_default(),
                    extra: X::deserialize(Rest(rest)).map_err(de::Error::custom)?,
                })
            }
        }
        deserializer.deserialize_map(Visit(PhantomData))
    }
}

/// A field name, borrowed from the input when the input allows it.
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> Visitor<'de> for Visit {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(Visit)
    }
}

/// The fields left over for a flattened type, deserialized as serde's flatten does: as a map
/// (or struct), or as `()` whatever they hold.
struct Rest(Map<String, Value>);

impl<'de> Deserializer<'de> for Rest {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        Value::Object(self.0).deserialize_any(visitor)
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_unit()
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_unit()
    }

    /// `None` when no field is left, else `Some` of what the fields make. (serde's flatten also
    /// turns fields that do not fit into `None`; here they are an error, which the extractor
    /// reports as a session that does not fit its type.)
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        if self.0.is_empty() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        Value::Object(self.0).deserialize_struct(name, fields, visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        newtype_struct seq tuple tuple_struct map enum identifier ignored_any
    }
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

    /// What `#[derive(Deserialize)]` with `flatten` reads: the hand-written impls must agree.
    #[derive(Debug, Deserialize, Serialize, PartialEq)]
    #[serde(bound(deserialize = "U: Deserialize<'de>, X: Deserialize<'de>"))]
    struct DerivedSession<U, X> {
        #[serde(default)]
        user: Option<DerivedUser<U>>,
        #[serde(default)]
        expires: String,
        #[serde(flatten)]
        extra: X,
    }

    #[derive(Debug, Deserialize, Serialize, PartialEq)]
    #[serde(bound(deserialize = "U: Deserialize<'de>"))]
    struct DerivedUser<U> {
        #[serde(default)]
        name: Option<String>,
        #[serde(default)]
        email: Option<String>,
        #[serde(default)]
        image: Option<String>,
        #[serde(flatten)]
        extra: U,
    }

    fn agree<U, X>(input: &str)
    where
        U: serde::de::DeserializeOwned + Serialize,
        X: serde::de::DeserializeOwned + Serialize,
    {
        let check = |ours: Result<Value, serde_json::Error>,
                     derived: Result<Value, serde_json::Error>| {
            match (&ours, &derived) {
                // The one difference, documented on `Rest`: leftover fields that do not fit a
                // flattened `Option<T>` are an error rather than `None`.
                (Err(_), Ok(d)) if std::any::type_name::<U>().starts_with("core::option") => {
                    assert!(d["user"].is_object(), "{input}");
                }
                _ => {
                    assert_eq!(ours.as_ref().ok(), derived.as_ref().ok(), "{input}");
                    assert_eq!(ours.is_err(), derived.is_err(), "{input}");
                }
            }
        };
        let to_value = |s: DefaultSession<U, X>| serde_json::to_value(s).unwrap();
        let derived_value = |s: DerivedSession<U, X>| serde_json::to_value(s).unwrap();
        check(
            serde_json::from_str::<DefaultSession<U, X>>(input).map(to_value),
            serde_json::from_str::<DerivedSession<U, X>>(input).map(derived_value),
        );
        // From a `Value` too (what the extractor reads), borrowing its strings.
        if let Ok(value) = serde_json::from_str::<Value>(input) {
            check(
                DefaultSession::<U, X>::deserialize(&value).map(to_value),
                DerivedSession::<U, X>::deserialize(&value).map(derived_value),
            );
        }
    }

    #[test]
    fn hand_written_deserialize_agrees_with_derive() {
        let inputs = [
            r#"{"user": {"name": "A", "email": null, "image": "i", "role": "admin", "id": "7"}, "expires": "x", "theme": "dark"}"#,
            r#"{"user": null, "expires": "x"}"#,
            r#"{"expires": "x"}"#,
            r#"{"user": {}}"#,
            r#"{}"#,
            r#"{"user": {"name": "A", "role": 3}, "expires": "x", "role": "session-level"}"#,
            r#"{"user": {"name": "A", "name": "B"}, "expires": "x"}"#,
            r#"{"user": {"name": "A"}, "expires": "x", "expires": "y"}"#,
            r#"{"user": {"name": 1}, "expires": "x"}"#,
            r#"{"user": [], "expires": "x"}"#,
            r#"{"user": {"name": "A"}, "expires": 5}"#,
            r#"[]"#,
            r#""session""#,
        ];
        for input in inputs {
            agree::<Extra, Extra>(input);
            agree::<Ext, Extra>(input);
            agree::<Extra, ()>(input);
            agree::<(), ()>(input);
            agree::<Option<Ext>, Extra>(input);
        }
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
