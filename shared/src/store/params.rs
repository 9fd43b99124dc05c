//! Values bound to a statement whatever the backend: the records of every log are written by
//! statements of the same shapes, each kind giving its values as a list of [`Param`]s.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::query::{Query, QueryAs, QueryScalar};
use sqlx::{Database, Encode, Type};

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Param<'a> {
    Text(Option<&'a str>),
    Real(Option<f64>),
    Int(Option<i64>),
    Instant(DateTime<Utc>),
    Day(NaiveDate),
}

impl Param<'_> {
    /// The PostgreSQL type the value is bound as.
    #[cfg(test)]
    pub(super) fn sql_type(&self) -> &'static str {
        match self {
            Param::Text(_) => "text",
            Param::Real(_) => "double precision",
            Param::Int(_) => "bigint",
            Param::Instant(_) => "timestamptz",
            Param::Day(_) => "date",
        }
    }
}

/// Binding a list of [`Param`]s, in order, to any of sqlx's statements: each with its own
/// type, so the one list serves both backends.
pub(super) trait BindParams<'q>: Sized {
    fn bind_params(self, params: &[Param<'q>]) -> Self;
}

/// Implements [`BindParams`] for one of sqlx's statement types.
macro_rules! impl_bind_params {
    ($statement:ident $(, $output:ident)?) => {
        impl<'q, DB $(, $output)?> BindParams<'q> for $statement<'q, DB, $($output,)? DB::Arguments>
        where
            DB: Database,
            Option<&'q str>: Encode<'q, DB> + Type<DB>,
            Option<f64>: Encode<'q, DB> + Type<DB>,
            Option<i64>: Encode<'q, DB> + Type<DB>,
            DateTime<Utc>: Encode<'q, DB> + Type<DB>,
            NaiveDate: Encode<'q, DB> + Type<DB>,
        {
            fn bind_params(mut self, params: &[Param<'q>]) -> Self {
                for param in params {
                    self = match *param {
                        Param::Text(value) => self.bind(value),
                        Param::Real(value) => self.bind(value),
                        Param::Int(value) => self.bind(value),
                        Param::Instant(value) => self.bind(value),
                        Param::Day(value) => self.bind(value),
                    };
                }
                self
            }
        }
    };
}

impl_bind_params!(Query);
impl_bind_params!(QueryAs, O);
impl_bind_params!(QueryScalar, O);
