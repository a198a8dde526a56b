//! `tv-keys`: Ed25519 key pairs for bearer tokens, and the services' set of public keys.
//!
//! ```text
//! tv-keys generate .data/jwt-keys        # private.pem (0600) + jwks.json; prints the new kid
//! tv-keys add services.jwks.json .data/jwt-keys-2/jwks.json   # rotation: old and new keys
//! tv-keys remove services.jwks.json OLD_KID                   # rotation done
//! tv-keys list services.jwks.json
//! ```
//!
//! Issuers get `private.pem` (`TV_JWT_PRIVATE_KEY_FILE`); services get a JWKS
//! (`TV_JWT_PUBLIC_KEYS_FILE`). Nothing here overwrites a private key, and a set is replaced
//! atomically, so that a service restarting meanwhile reads the old set or the new one.

use anyhow::{bail, Context};
use auth::{PublicKeys, SigningKey};
use clap::Parser;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Parser)]
#[command(
    name = "tv-keys",
    about = "Create Ed25519 key pairs for TicketView's bearer tokens and edit the services' public key set"
)]
enum Cli {
    /// A new key pair in DIR: private.pem (PKCS#8 PEM, readable by you only: for token issuers)
    /// and jwks.json (its public key: for the services). Prints the key's kid. Never overwrites.
    Generate { dir: PathBuf },
    /// Adds the keys of the FROM sets to the set JWKS (created if missing): the first step of a
    /// rotation, before issuers switch to the new private key.
    Add {
        jwks: PathBuf,
        #[arg(required = true)]
        from: Vec<PathBuf>,
    },
    /// Removes the key KID from the set JWKS: the last step of a rotation, once no token signed
    /// with it is still valid.
    Remove { jwks: PathBuf, kid: String },
    /// Prints the kid of every key in the set JWKS.
    List { jwks: PathBuf },
}

fn main() -> anyhow::Result<()> {
    match Cli::parse() {
        Cli::Generate { dir } => {
            let key = generate(&dir)?;
            println!("{}", key.kid());
        }
        Cli::Add { jwks, from } => {
            let mut set = read_or_empty(&jwks)?;
            for path in &from {
                for key in read(path)?.iter() {
                    if !set.insert(key.clone()) {
                        eprintln!("{}: already holds {}", jwks.display(), key.kid());
                    }
                }
            }
            replace(&jwks, &set)?;
            list(&set);
        }
        Cli::Remove { jwks, kid } => {
            let mut set = read(&jwks)?;
            if !set.remove(&kid) {
                bail!("{} holds no key {kid}", jwks.display());
            }
            if set.is_empty() {
                bail!(
                    "{kid} is the last key of {}: without it the services would refuse every \
                     token; add the new key first (tv-keys add)",
                    jwks.display()
                );
            }
            replace(&jwks, &set)?;
            list(&set);
        }
        Cli::List { jwks } => list(&read(&jwks)?),
    }
    Ok(())
}

fn list(set: &PublicKeys) {
    for key in set.iter() {
        println!("{}", key.kid());
    }
}

fn read(path: &Path) -> anyhow::Result<PublicKeys> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    PublicKeys::from_json(&text, "the file")
        .with_context(|| format!("reading the key set {}", path.display()))
}

fn read_or_empty(path: &Path) -> anyhow::Result<PublicKeys> {
    match path.exists() {
        true => read(path),
        false => Ok(PublicKeys::default()),
    }
}

/// Writes a new pair into `dir`, created readable by this user only when missing.
fn generate(dir: &Path) -> anyhow::Result<SigningKey> {
    let private = dir.join("private.pem");
    let public = dir.join("jwks.json");
    for path in [&private, &public] {
        if path.exists() {
            bail!(
                "{} exists: tv-keys never overwrites a key; generate into another directory",
                path.display()
            );
        }
    }
    create_dir(dir)?;
    let key = SigningKey::generate()?;
    write_new(&private, key.to_pem().as_bytes(), 0o600)?;
    let set: PublicKeys = [key.public_key().clone()].into_iter().collect();
    write_new(&public, set.to_json().as_bytes(), 0o644)?;
    Ok(key)
}

fn create_dir(dir: &Path) -> anyhow::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .with_context(|| format!("creating {}", dir.display()))
}

/// Writes a file that must not exist yet, with `mode` from the start (never readable by others
/// for a moment).
fn write_new(path: &Path, contents: &[u8], mode: u32) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(contents)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", path.display()))
}

/// Replaces the set at `path` by writing a sibling and renaming it over.
fn replace(path: &Path, set: &PublicKeys) -> anyhow::Result<()> {
    let name = path.file_name().context("a key set file needs a name")?;
    let mut temporary = name.to_owned();
    temporary.push(format!(".{}.tmp", std::process::id()));
    let temporary = path.with_file_name(temporary);
    write_new(&temporary, set.to_json().as_bytes(), 0o644)?;
    std::fs::rename(&temporary, path).with_context(|| format!("replacing {}", path.display()))
}
