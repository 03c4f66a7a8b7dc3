//! One error enum for the API, each variant with the code integrations match on
//! (`extensions.code` in GraphQL, a status in HTTP). Internal causes are logged, never shown.
use async_graphql::ErrorExtensions;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// What can go wrong, as the contract names it.
///
/// Deliberately not `Display`: async-graphql turns any `Display` error into an error
/// without a code, so `?` must go through `From<ApiError>` below, which keeps it.
#[derive(Debug)]
pub enum ApiError {
    BadUserInput(String),
    NotFound(&'static str),
    Unauthenticated(&'static str),
    Forbidden(&'static str),
    /// Too many attempts; retry after this many seconds.
    RateLimited(u64),
    /// The customer's last message is older than the 24-hour (or 7-day human agent) window.
    OutsideWindow,
    /// Facebook refused a call.
    GraphApi(String),
    /// `connectPage`: the Page token is expired or invalid, or lacks permissions.
    PageToken(PageTokenProblem),
    /// A subscription's `after` is older than the retained event log: reload, then
    /// subscribe from the Page's current `eventPosition`.
    PositionExpired,
    /// A subscriber fell too far behind the live events: resubscribe with `after`.
    FellBehind,
    Internal(anyhow::Error),
}

/// Why Facebook will not take a Page token (`connectPage`), each with its own code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageTokenProblem {
    /// `TOKEN_EXPIRED`: its time ran out (Graph 190/463).
    Expired,
    /// `TOKEN_INVALID`, with `extensions.reason` (see [`TokenInvalid::reason`]).
    Invalid(TokenInvalid),
    /// `MISSING_PERMISSIONS`, with `extensions.missingPermissions`: granted permissions the
    /// app needs and this token lacks (and whether the admin declined each).
    MissingPermissions(Vec<(String, bool)>),
}

/// Why a token that has not expired still does not work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenInvalid {
    /// 190/460: the admin changed their password, or Facebook reset the session.
    PasswordChanged,
    /// 190/458: the admin removed the app.
    AppRemoved,
    /// 190/466: invalidated explicitly (in the simulator: a newer token was issued).
    Invalidated,
    /// 190/467: the admin logged out.
    LoggedOut,
    /// A user or app token where a Page token is needed.
    NotAPageToken,
    /// 190 without a subcode we know: never a token, or one Facebook cannot parse.
    Unrecognised,
}

impl TokenInvalid {
    /// `extensions.reason`.
    pub fn reason(self) -> &'static str {
        match self {
            Self::PasswordChanged => "PASSWORD_CHANGED",
            Self::AppRemoved => "APP_REMOVED",
            Self::Invalidated => "INVALIDATED",
            Self::LoggedOut => "LOGGED_OUT",
            Self::NotAPageToken => "NOT_A_PAGE_TOKEN",
            Self::Unrecognised => "UNRECOGNISED",
        }
    }

    fn message(self) -> &'static str {
        match self {
            Self::PasswordChanged => {
                "Facebook invalidated this access token: the Page admin changed their password \
                 or Facebook reset the session. Get a new Page access token"
            }
            Self::AppRemoved => {
                "this access token no longer works: the Page admin removed the app. Add the \
                 app again, then get a new Page access token"
            }
            Self::Invalidated => {
                "Facebook invalidated this access token (a newer token may have been issued \
                 for this Page). Use the newest Page access token"
            }
            Self::LoggedOut => {
                "this access token no longer works: the Page admin logged out. Get a new Page \
                 access token"
            }
            Self::NotAPageToken => {
                "this is not a Page access token: get the Page's own token (GET /me/accounts \
                 with the admin's user token)"
            }
            Self::Unrecognised => "Facebook does not recognise this access token",
        }
    }
}

impl PageTokenProblem {
    fn code(&self) -> &'static str {
        match self {
            Self::Expired => "TOKEN_EXPIRED",
            Self::Invalid(_) => "TOKEN_INVALID",
            Self::MissingPermissions(_) => "MISSING_PERMISSIONS",
        }
    }

    fn message(&self) -> String {
        match self {
            Self::Expired => "this Page access token has expired: get a new one (a Page token \
                 got with a long-lived user token does not expire)"
                .to_owned(),
            Self::Invalid(why) => why.message().to_owned(),
            Self::MissingPermissions(missing) => {
                let names: Vec<String> = missing
                    .iter()
                    .map(|(name, declined)| {
                        if *declined {
                            format!("{name} (declined)")
                        } else {
                            name.clone()
                        }
                    })
                    .collect();
                format!(
                    "this access token lacks permissions MessengerFlow needs: {}. Grant them \
                     to the app, then get a new Page access token",
                    names.join(", ")
                )
            }
        }
    }
}

impl ApiError {
    pub fn bad_input(message: impl Into<String>) -> Self {
        Self::BadUserInput(message.into())
    }

    /// What the client is told. Internal causes stay in the log.
    pub fn message(&self) -> String {
        match self {
            Self::BadUserInput(message) => message.clone(),
            Self::NotFound(what) => format!("{what} not found"),
            Self::Unauthenticated(why) | Self::Forbidden(why) => (*why).to_owned(),
            Self::RateLimited(seconds) => format!("too many requests; retry in {seconds} s"),
            Self::OutsideWindow => "outside the messaging window: the customer's last message \
                is more than 7 days old (24 hours without the human agent tag)"
                .to_owned(),
            Self::GraphApi(message) => format!("Facebook refused the request: {message}"),
            Self::PageToken(problem) => problem.message(),
            Self::FellBehind => "this subscription fell too far behind; subscribe again with \
                 `after` set to the last position it delivered"
                .to_owned(),
            Self::PositionExpired => "`after` is older than the retained event log; reload \
                 and subscribe from the Page's current eventPosition"
                .to_owned(),
            Self::Internal(_) => "internal error".to_owned(),
        }
    }

    /// The contract's error code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadUserInput(_) => "BAD_USER_INPUT",
            Self::NotFound(_) => "NOT_FOUND",
            Self::Unauthenticated(_) => "UNAUTHENTICATED",
            Self::Forbidden(_) => "FORBIDDEN",
            Self::RateLimited(_) => "RATE_LIMITED",
            Self::OutsideWindow => "OUTSIDE_MESSAGING_WINDOW",
            Self::GraphApi(_) => "GRAPH_API_ERROR",
            Self::PageToken(problem) => problem.code(),
            Self::PositionExpired => "POSITION_EXPIRED",
            Self::FellBehind => "RESUME_REQUIRED",
            Self::Internal(_) => "INTERNAL",
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            Self::BadUserInput(_) => StatusCode::BAD_REQUEST,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::OutsideWindow => StatusCode::UNPROCESSABLE_ENTITY,
            Self::GraphApi(_) => StatusCode::BAD_GATEWAY,
            Self::PageToken(_) => StatusCode::BAD_REQUEST,
            Self::PositionExpired => StatusCode::GONE,
            Self::FellBehind => StatusCode::CONFLICT,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn log_if_internal(&self) {
        if let Self::Internal(cause) = self {
            tracing::error!(error = ?cause, "internal error");
        }
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(err: sea_orm::DbErr) -> Self {
        Self::Internal(err.into())
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(err: anyhow::Error) -> Self {
        Self::Internal(err)
    }
}

impl ErrorExtensions for ApiError {
    fn extend(&self) -> async_graphql::Error {
        self.log_if_internal();
        async_graphql::Error::new(self.message()).extend_with(|_, e| {
            e.set("code", self.code());
            if let Self::RateLimited(seconds) = self {
                e.set("retryAfter", *seconds);
            }
            match self {
                Self::PageToken(PageTokenProblem::Invalid(why)) => e.set("reason", why.reason()),
                Self::PageToken(PageTokenProblem::MissingPermissions(missing)) => {
                    let names: Vec<&str> = missing.iter().map(|(n, _)| n.as_str()).collect();
                    e.set("missingPermissions", names);
                }
                _ => {}
            }
        })
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(err: ApiError) -> Self {
        err.extend()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.log_if_internal();
        (self.status(), self.message()).into_response()
    }
}
