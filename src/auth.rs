//! Authentication: the password file (`--auth-file`, memcached's `-Y` format, one
//! `user:password` a line), SASL PLAIN for the binary protocol (`-S`), and the text
//! protocol's `set <any> 0 0 <len>` carrying `user password`.
//!
//! SKELETON: being written; the API below is what the connection code relies on.

/// The users a server accepts, re-read from the file on SIGHUP.
#[derive(Debug)]
pub struct Auth {}

/// Why an authentication failed (logged, never with the password).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthError {
    /// The message is not `[authzid] NUL user NUL password` (PLAIN) or `user password` (text).
    Malformed,
    /// No such user, or the wrong password.
    Rejected,
}

impl Auth {
    /// SASL PLAIN (RFC 4616): `msg` is `[authzid] NUL authcid NUL passwd`. Returns the user.
    pub fn check_plain<'m>(&self, _msg: &'m [u8]) -> Result<&'m [u8], AuthError> {
        Err(AuthError::Rejected)
    }

    /// The text protocol's authentication value: `user password`. Returns the user.
    pub fn check_text<'m>(&self, _value: &'m [u8]) -> Result<&'m [u8], AuthError> {
        Err(AuthError::Rejected)
    }
}
