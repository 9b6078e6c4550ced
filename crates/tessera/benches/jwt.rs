//! JWT session-token encode/decode cost, per format (`cargo bench -p tessera --bench jwt`).
//!
//! The token is next-auth's default session token (`name`, `email`, `picture`, `sub`, plus
//! `iat`/`exp`/`jti`), about 320 bytes in v4 and 500 in v5.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use tessera::{Claims, JwtCodec, JwtFormat, OsRandom};
use tessera_core::Secret;

const NOW: i64 = 1_795_000_000;
const MAX_AGE: i64 = 30 * 24 * 60 * 60;

fn session_claims() -> Claims {
    let value = serde_json::json!({
        "name": "Alice Example",
        "email": "alice@example.com",
        "picture": "https://example.com/a.png",
        "sub": "1",
    });
    match value {
        serde_json::Value::Object(map) => map,
        _ => unreachable!("a JSON object literal"),
    }
}

fn make_codec(format: JwtFormat, secrets: &[&str]) -> JwtCodec {
    let salt = match format {
        JwtFormat::V4 => "",
        _ => "authjs.session-token",
    };
    let secrets: Vec<Secret> = secrets.iter().map(|s| Secret::new(*s)).collect();
    JwtCodec::new(format, &secrets, salt).expect("valid codec")
}

fn bench_format(c: &mut Criterion, format: JwtFormat, label: &str) {
    let claims = session_claims();
    let codec = make_codec(format, &["a-much-longer-secret-value-used-in-production"]);
    let token = codec
        .encode(&claims, NOW, MAX_AGE, &OsRandom)
        .expect("encodes");

    let mut group = c.benchmark_group(format!("jwt/{label}"));
    group.bench_function("encode", |b| {
        b.iter(|| {
            codec
                .encode(black_box(&claims), NOW, MAX_AGE, &OsRandom)
                .expect("encodes")
        })
    });
    group.bench_function("decode", |b| {
        b.iter(|| codec.decode(black_box(&token), NOW).expect("decodes"))
    });
    // Rotation: the token was minted with the secret that is now second in the list.
    let rotated = make_codec(
        format,
        &[
            "the-new-secret",
            "a-much-longer-secret-value-used-in-production",
        ],
    );
    group.bench_function("decode_rotated_old_secret", |b| {
        b.iter(|| rotated.decode(black_box(&token), NOW).expect("decodes"))
    });
    group.bench_function("decode_tampered", |b| {
        let mut tampered = token.clone().into_bytes();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).expect("ASCII");
        b.iter(|| codec.decode(black_box(&tampered), NOW).is_err())
    });
    // The per-configuration cost that `JwtCodec::new` pays once (HKDF, key schedules, kid).
    group.bench_function("new", |b| {
        b.iter(|| {
            make_codec(
                black_box(format),
                &["a-much-longer-secret-value-used-in-production"],
            )
        })
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    bench_format(c, JwtFormat::V4, "v4");
    bench_format(c, JwtFormat::V5, "v5");
}

criterion_group!(jwt, benches);
criterion_main!(jwt);
