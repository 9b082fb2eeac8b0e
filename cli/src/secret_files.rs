//! Secrets read from files (`--password-file` and the like, `-` for standard input), so that
//! they need not be flag values, which every user of the machine can read in the process list;
//! and the warning when one is a flag value all the same. No message contains a secret.

use std::io::{self, Read as _};
use std::path::{Path, PathBuf};

use crate::args::AuthArgs;
use crate::auth::{ACCESS_TOKEN, CLIENT_SECRET, PASSWORD, REFRESH_TOKEN, Setting, given};
use crate::exit::Failure;

/// A secret setting and the file setting that can hold it instead.
struct SecretPair {
    secret: Setting,
    file: Setting,
    /// The clap argument ids of the two.
    id: &'static str,
    file_id: &'static str,
}

const SECRET_PAIRS: [SecretPair; 4] = [
    SecretPair {
        secret: CLIENT_SECRET,
        file: Setting {
            env: "SF_CLIENT_SECRET_FILE",
            flag: "--client-secret-file",
            what: "the consumer secret file",
        },
        id: "client_secret",
        file_id: "client_secret_file",
    },
    SecretPair {
        secret: PASSWORD,
        file: Setting {
            env: "SF_PASSWORD_FILE",
            flag: "--password-file",
            what: "the password file",
        },
        id: "password",
        file_id: "password_file",
    },
    SecretPair {
        secret: REFRESH_TOKEN,
        file: Setting {
            env: "SF_REFRESH_TOKEN_FILE",
            flag: "--refresh-token-file",
            what: "the refresh token file",
        },
        id: "refresh_token",
        file_id: "refresh_token_file",
    },
    SecretPair {
        secret: ACCESS_TOKEN,
        file: Setting {
            env: "SF_ACCESS_TOKEN_FILE",
            flag: "--access-token-file",
            what: "the access token file",
        },
        id: "access_token",
        file_id: "access_token_file",
    },
];

/// More than any token or password; a larger file is not a secret file.
const MAX_SECRET_FILE: u64 = 64 * 1024;

/// The secret and file fields of `a` for one pair.
fn secret_fields<'a>(
    a: &'a mut AuthArgs,
    id: &str,
) -> (&'a mut Option<String>, &'a Option<PathBuf>) {
    match id {
        "client_secret" => (&mut a.client_secret, &a.client_secret_file),
        "password" => (&mut a.password, &a.password_file),
        "refresh_token" => (&mut a.refresh_token, &a.refresh_token_file),
        _ => (&mut a.access_token, &a.access_token_file),
    }
}

/// Reads the secrets given as files into `a` (a flag beats the environment; the two forms at the
/// same level are an error), and warns about secrets given as flag values, which every user of
/// the machine can read in the process list. `stdin` reads standard input, for a file named `-`.
pub(crate) fn settle_secrets(
    a: &mut AuthArgs,
    stdin: &mut dyn FnMut() -> io::Result<Vec<u8>>,
) -> Result<Vec<String>, Failure> {
    let on_command_line = a.on_command_line.clone();
    let mut warnings = Vec::new();
    let from_stdin: Vec<&str> = SECRET_PAIRS
        .iter()
        .filter(|pair| secret_fields(a, pair.id).1.as_deref() == Some(Path::new("-")))
        .map(|pair| pair.file.flag)
        .collect();
    if from_stdin.len() > 1 {
        return Err(Failure::config(format!(
            "{} each name standard input (-); only one secret can come from it",
            from_stdin.join(" and ")
        )));
    }
    for pair in &SECRET_PAIRS {
        let value_on_line = on_command_line.contains(&pair.id);
        let file_on_line = on_command_line.contains(&pair.file_id);
        let (value, file) = secret_fields(a, pair.id);
        let has_value = given(value).is_some();
        if has_value && value_on_line {
            warnings.push(format!(
                "{} was given on the command line, where any user of this machine can read it \
                 (ps, /proc); set {} or use {} instead",
                pair.secret.flag, pair.secret.env, pair.file.flag
            ));
        }
        let Some(file) = file.as_ref().filter(|p| !p.as_os_str().is_empty()) else {
            continue;
        };
        if has_value {
            match (value_on_line, file_on_line) {
                (true, true) => {
                    return Err(Failure::config(format!(
                        "both {} and {} are given: pass only one",
                        pair.secret.flag, pair.file.flag
                    )));
                }
                (false, false) => {
                    return Err(Failure::config(format!(
                        "both {} and {} are set: unset one",
                        pair.secret.env, pair.file.env
                    )));
                }
                // The flag wins over the environment.
                (true, false) => continue,
                (false, true) => {}
            }
        }
        let bytes = if file.as_os_str() == "-" {
            stdin().map_err(|e| {
                Failure::config(format!(
                    "cannot read {} from standard input ({} -): {e}",
                    pair.secret.what, pair.file.flag
                ))
            })?
        } else {
            read_secret_file(file).map_err(|e| {
                Failure::config(format!(
                    "cannot read {} `{}` ({}): {e}",
                    pair.file.what,
                    file.display(),
                    pair.file.names()
                ))
            })?
        };
        let text = String::from_utf8(bytes).map_err(|_| {
            Failure::config(format!(
                "{} ({}) is not UTF-8 text",
                pair.file.what,
                pair.file.names()
            ))
        })?;
        // One trailing line break is the file's, not the secret's (`echo secret > file`).
        let text = text
            .strip_suffix('\n')
            .map(|t| t.strip_suffix('\r').unwrap_or(t))
            .unwrap_or(&text);
        if text.trim().is_empty() {
            return Err(Failure::config(format!(
                "{} ({}) is empty",
                pair.file.what,
                pair.file.names()
            )));
        }
        *value = Some(text.to_owned());
    }
    Ok(warnings)
}

/// The bytes of a secret file, refusing one too large to be a secret.
fn read_secret_file(path: &Path) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_SECRET_FILE + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_SECRET_FILE {
        return Err(io::Error::other(format!(
            "larger than {MAX_SECRET_FILE} bytes: not a secret file"
        )));
    }
    Ok(bytes)
}

/// All of standard input, bounded like a secret file.
pub(crate) fn read_stdin() -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    io::stdin()
        .lock()
        .take(MAX_SECRET_FILE + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_SECRET_FILE {
        return Err(io::Error::other(format!(
            "more than {MAX_SECRET_FILE} bytes: not a secret"
        )));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_stdin() -> io::Result<Vec<u8>> {
        Err(io::Error::other("standard input is not used here"))
    }

    #[test]
    fn a_flag_value_is_warned_about_without_the_secret() {
        let mut a = AuthArgs {
            password: Some("hunter2-secret".into()),
            client_secret: Some("env-secret".into()),
            on_command_line: vec!["password"],
            ..AuthArgs::default()
        };
        let warnings = settle_secrets(&mut a, &mut no_stdin).expect("settled");
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        let w = &warnings[0];
        assert!(
            w.contains("--password was given on the command line"),
            "{w}"
        );
        assert!(
            w.contains("SF_PASSWORD") && w.contains("--password-file"),
            "{w}"
        );
        assert!(!w.contains("hunter2"), "{w}");
    }

    #[test]
    fn standard_input_is_read_once_and_one_line_break_dropped() {
        let mut reads = 0;
        let mut stdin = || {
            reads += 1;
            Ok(b"tok en\r\n".to_vec())
        };
        let mut a = AuthArgs {
            refresh_token_file: Some(PathBuf::from("-")),
            on_command_line: vec!["refresh_token_file"],
            ..AuthArgs::default()
        };
        let warnings = settle_secrets(&mut a, &mut stdin).expect("settled");
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(a.refresh_token.as_deref(), Some("tok en"));
        assert_eq!(reads, 1);
    }

    #[test]
    fn a_file_flag_beats_a_value_from_the_environment() {
        let mut a = AuthArgs {
            access_token: Some("from-env".into()),
            access_token_file: Some(PathBuf::from("-")),
            on_command_line: vec!["access_token_file"],
            ..AuthArgs::default()
        };
        settle_secrets(&mut a, &mut || Ok(b"from-stdin".to_vec())).expect("settled");
        assert_eq!(a.access_token.as_deref(), Some("from-stdin"));
    }

    #[test]
    fn a_failed_read_names_the_setting_not_the_content() {
        let mut a = AuthArgs {
            password_file: Some(PathBuf::from("-")),
            ..AuthArgs::default()
        };
        let m = settle_secrets(&mut a, &mut no_stdin)
            .expect_err("stdin fails")
            .message;
        assert!(
            m.contains("--password-file -") && m.contains("standard input"),
            "{m}"
        );
        let mut a = AuthArgs {
            password_file: Some(PathBuf::from("-")),
            ..AuthArgs::default()
        };
        let m = settle_secrets(&mut a, &mut || Ok(vec![0xff, 0xfe]))
            .expect_err("not UTF-8")
            .message;
        assert!(m.contains("SF_PASSWORD_FILE or --password-file"), "{m}");
    }
}
