//! `cargo run -p tessera-example-axum [-- --database]`: serves the example on
//! `http://localhost:3000` (`PORT` to change it) and prints the demo accounts.

use tessera::SessionStrategy;
use tessera_example_axum::{Config, DEMO_USERS, Role, app};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tessera=debug".into()),
        )
        .init();
    let port: u16 = match std::env::var("PORT") {
        Ok(p) => p
            .parse()
            .map_err(|_| format!("PORT must be a port number, got {p:?}"))?,
        Err(_) => 3000,
    };
    let database = std::env::args().any(|a| a == "--database")
        || std::env::var("SESSION_STRATEGY").is_ok_and(|s| s == "database");
    let strategy = if database {
        SessionStrategy::Database
    } else {
        SessionStrategy::Jwt
    };
    let secret = match std::env::var("AUTH_SECRET") {
        Ok(s) if !s.trim().is_empty() => s,
        _ => {
            eprintln!(
                "AUTH_SECRET is not set: using a development-only secret (never do this in production)"
            );
            "tessera-example-axum development secret, not for production".to_owned()
        }
    };
    let origin = format!("http://localhost:{port}");
    let config = Config::new(format!("{origin}/api/auth"), secret, strategy);
    let (_auth, router, _directory) = app(&config).await?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;

    println!("Tessera axum example listening on {origin}");
    println!(
        "  sessions: {}",
        if database {
            "database (in memory)"
        } else {
            "JWT"
        }
    );
    println!("  sign in:  {origin}/api/auth/signin");
    for u in DEMO_USERS {
        let role = match u.role {
            Role::Admin => "admin",
            Role::User => "user",
        };
        println!("  {role:<5} {} / {}", u.email, u.password);
    }
    println!("  pages:    {origin}/  {origin}/dashboard  {origin}/admin");
    println!(
        "  API:      {origin}/api/me  {origin}/api/admin/users  POST {origin}/api/preferences"
    );

    // The peer address keys the rate limits and the brute-force backoff.
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}
