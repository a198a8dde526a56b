//! `tv-token`: mints a bearer token with the configured private key (EdDSA) or shared secret
//! (HS256), for curl and scripts.
//!
//! ```text
//! TV_JWT_PRIVATE_KEY_FILE=.data/jwt-keys/private.pem tv-token --subject alice --role customer
//! TV_JWT_SECRET_FILE=.data/jwt-secret tv-token --subject alice --role customer
//! curl -H "Authorization: Bearer $(tv-token ...)" ...
//! ```

use anyhow::Context;
use auth::{AuthConfig, Role};
use clap::Parser;
use std::time::Duration;

#[derive(Debug, clap::Parser)]
#[command(
    name = "tv-token",
    about = "Mint a TicketView bearer token (JWT) with the configured private key (EdDSA) or secret (HS256)"
)]
struct Cli {
    /// The token's subject: a customer id for a customer, a name for an operator.
    #[arg(long)]
    subject: String,
    /// A role to grant (customer, operator, scanner); repeat for several.
    #[arg(long = "role", required = true)]
    roles: Vec<Role>,
    /// How long the token is valid, in seconds (at most a day: services refuse longer ones).
    #[arg(long, default_value_t = 3600, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    ttl_seconds: u64,
    #[command(flatten)]
    auth: AuthConfig,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let issuer = cli.auth.issuer().context(
        "tv-token signs with a key the services hold the public half of, or their secret",
    )?;
    println!(
        "{}",
        issuer.mint(
            &cli.subject,
            &cli.roles,
            Duration::from_secs(cli.ttl_seconds)
        )
    );
    Ok(())
}
