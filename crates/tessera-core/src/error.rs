//! The next-auth error codes.

use std::fmt;

/// A next-auth error kind. [`ErrorKind::code`] is the `?error=` value next-auth uses,
/// so error pages and the `next-auth/react` client see the same strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The server is misconfigured (`Configuration`).
    Configuration,
    /// The `sign_in` callback refused the user (`AccessDenied`).
    AccessDenied,
    /// An email token was invalid, expired or already used (`Verification`).
    Verification,
    /// Building the OAuth authorization URL failed (`OAuthSignin`).
    OAuthSignin,
    /// The OAuth callback failed its checks or token exchange (`OAuthCallback`).
    OAuthCallback,
    /// Creating the user of an OAuth sign-in failed (`OAuthCreateAccount`).
    OAuthCreateAccount,
    /// Creating the user of an email sign-in failed (`EmailCreateAccount`).
    EmailCreateAccount,
    /// The provider returned an error, or another callback failure (`Callback`).
    Callback,
    /// The account belongs to another user (`OAuthAccountNotLinked`).
    OAuthAccountNotLinked,
    /// Sending the email failed or the address was invalid (`EmailSignin`).
    EmailSignin,
    /// `authorize` returned no user (`CredentialsSignin`).
    CredentialsSignin,
    /// A page required a session and there was none (`SessionRequired`).
    SessionRequired,
    /// A generic sign-in failure (`Signin`).
    Signin,
    /// Anything else (`Default`).
    Default,
    /// Too many attempts: the abuse limits refused the request (`RateLimited`, a Tessera
    /// addition; next-auth has no limits of its own).
    RateLimited,
}

impl ErrorKind {
    /// Every kind, in next-auth's order.
    pub const ALL: [ErrorKind; 15] = [
        ErrorKind::Configuration,
        ErrorKind::AccessDenied,
        ErrorKind::Verification,
        ErrorKind::OAuthSignin,
        ErrorKind::OAuthCallback,
        ErrorKind::OAuthCreateAccount,
        ErrorKind::EmailCreateAccount,
        ErrorKind::Callback,
        ErrorKind::OAuthAccountNotLinked,
        ErrorKind::EmailSignin,
        ErrorKind::CredentialsSignin,
        ErrorKind::SessionRequired,
        ErrorKind::Signin,
        ErrorKind::Default,
        ErrorKind::RateLimited,
    ];

    /// The `?error=` value next-auth uses for this kind.
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::Configuration => "Configuration",
            ErrorKind::AccessDenied => "AccessDenied",
            ErrorKind::Verification => "Verification",
            ErrorKind::OAuthSignin => "OAuthSignin",
            ErrorKind::OAuthCallback => "OAuthCallback",
            ErrorKind::OAuthCreateAccount => "OAuthCreateAccount",
            ErrorKind::EmailCreateAccount => "EmailCreateAccount",
            ErrorKind::Callback => "Callback",
            ErrorKind::OAuthAccountNotLinked => "OAuthAccountNotLinked",
            ErrorKind::EmailSignin => "EmailSignin",
            ErrorKind::CredentialsSignin => "CredentialsSignin",
            ErrorKind::SessionRequired => "SessionRequired",
            ErrorKind::Signin => "Signin",
            ErrorKind::Default => "Default",
            ErrorKind::RateLimited => "RateLimited",
        }
    }

    /// The kind for an `?error=` value; unknown values are [`ErrorKind::Default`].
    /// The email callback's lower-case `configuration` maps to [`ErrorKind::Configuration`].
    pub fn from_code(code: &str) -> ErrorKind {
        if code == "configuration" {
            return ErrorKind::Configuration;
        }
        ErrorKind::ALL
            .into_iter()
            .find(|k| k.code() == code)
            .unwrap_or(ErrorKind::Default)
    }

    /// Whether next-auth shows this error on the sign-in page rather than the error page.
    pub fn is_signin_error(self) -> bool {
        matches!(
            self,
            ErrorKind::Signin
                | ErrorKind::OAuthSignin
                | ErrorKind::OAuthCallback
                | ErrorKind::OAuthCreateAccount
                | ErrorKind::EmailCreateAccount
                | ErrorKind::Callback
                | ErrorKind::OAuthAccountNotLinked
                | ErrorKind::EmailSignin
                | ErrorKind::CredentialsSignin
                | ErrorKind::SessionRequired
        )
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for kind in ErrorKind::ALL {
            assert_eq!(ErrorKind::from_code(kind.code()), kind);
        }
        assert_eq!(ErrorKind::from_code("nope"), ErrorKind::Default);
        assert_eq!(
            ErrorKind::from_code("configuration"),
            ErrorKind::Configuration
        );
    }
}
