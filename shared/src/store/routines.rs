//! PostgreSQL functions that stand in for the hottest statements when statements are not kept
//! (`DB_STATEMENT_CACHE_CAPACITY=0`, behind RDS Proxy or PgBouncer in transaction mode).
//!
//! An unnamed statement is parsed and planned again every time it runs; for the profile read
//! and a food entry's write that costs the server more than running them (measured on the
//! bench's fleets: 0.73 ms of PostgreSQL time per `GET /profile` instead of 0.24 ms with kept
//! statements, 2.1 ms per `POST /food-entries` instead of 1.1 ms). A PL/pgSQL function keeps
//! the plans of its statements for the life of the server connection, whoever the client:
//! what is planned per request is then only the call, a trivial statement.
//!
//! Each routine is made by [`install`] (run by `migrate`) from the statement's own text, so
//! the statement is still written once; its name is a hash of that text and of its
//! parameters' types, so two versions of the service deployed side by side each call their
//! own, and a routine, once made, never changes. Only statements that return rows qualify
//! (a call answers `SELECT n`, which is what such a statement's row count is too).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::OnceLock;

use aws_lc_rs::digest;
use sqlx::postgres::PgConnection;
use sqlx::{AssertSqlSafe, Column, Executor, SqlSafeStr};

use super::entries;
use super::{profile, user_writes, users};
use crate::error::{Error, Result};

/// Goes into every routine's name: a change to how routines are made makes new ones.
const FORM: &str = "user-service routine 1";
const PREFIX: &str = "us_stmt_";

/// A statement served by a routine: its text and its parameters' types, as the store binds
/// them (`&str` is `text`, `i64` `bigint`, `f64` `double precision`, `DateTime<Utc>`
/// `timestamptz`, `NaiveDate` `date`). A type that differs from the bound one makes the call
/// fail (`42883`: no such function), which the tests on unnamed statements would show.
struct Routine {
    sql: String,
    params: &'static [&'static str],
}

impl Routine {
    fn name(&self) -> String {
        let mut context = digest::Context::new(&digest::SHA256);
        for part in [FORM, &self.sql, &self.params.join(",")] {
            context.update(part.as_bytes());
            context.update(b"\0");
        }
        let mut name = PREFIX.to_owned();
        for byte in &context.finish().as_ref()[..8] {
            let _ = write!(name, "{byte:02x}");
        }
        name
    }

    fn call(&self) -> String {
        let args: Vec<String> = (1..=self.params.len()).map(|n| format!("${n}")).collect();
        format!("SELECT * FROM {}({})", self.name(), args.join(", "))
    }
}

/// The statements served by routines: the caller's standing (every request but `GET /profile`
/// reads it), and the statements of `GET /profile` and of a food entry's `POST`, the hottest
/// read and write.
fn routines() -> Vec<Routine> {
    vec![
        Routine {
            sql: users::STANDING.to_owned(),
            params: &["text"],
        },
        Routine {
            sql: profile::PROFILE_POSTGRES.to_owned(),
            params: &["text", "date"],
        },
        Routine {
            sql: entries::insert_one_postgres(),
            params: entries::INSERT_ONE_PARAMS,
        },
        Routine {
            sql: user_writes::BADGE_FACTS_AND_FOODS.to_owned(),
            params: &["text", "date", "date", "bigint", "text"],
        },
        Routine {
            sql: user_writes::POSTGRES_CLAIM_KEY.to_owned(),
            params: &["text", "text", "timestamptz", "timestamptz", "text"],
        },
    ]
}

/// The call that stands for `sql` when a routine serves it.
pub(super) fn call(sql: &str) -> Option<&'static str> {
    static CALLS: OnceLock<HashMap<String, &'static str>> = OnceLock::new();
    CALLS
        .get_or_init(|| {
            routines()
                .into_iter()
                .map(|routine| {
                    // Built once per process, a few short strings: the store's statements
                    // are `&'static str`, and so are their calls.
                    let call: &'static str = Box::leak(routine.call().into_boxed_str());
                    (routine.sql, call)
                })
                .collect()
        })
        .get(sql)
        .copied()
}

/// Makes the routines this version calls that the database does not have yet.
pub(super) async fn install(conn: &mut PgConnection) -> Result<()> {
    let existing: Vec<String> = sqlx::query_scalar(
        "SELECT proname::text FROM pg_proc \
         WHERE pronamespace = current_schema()::regnamespace AND starts_with(proname, $1)",
    )
    .bind(PREFIX)
    .fetch_all(&mut *conn)
    .await?;
    for routine in routines() {
        let name = routine.name();
        if existing.contains(&name) {
            continue;
        }
        let columns = result_columns(conn, &routine, &name).await?;
        if columns.is_empty() {
            return Err(Error::internal(format!(
                "routine {name}: the statement returns no rows"
            )));
        }
        if routine.sql.contains("$routine$") {
            return Err(Error::internal(format!(
                "routine {name}: the statement holds its quote"
            )));
        }
        let returns: Vec<String> = columns
            .iter()
            .map(|(column, type_name)| format!("\"{}\" {type_name}", column.replace('"', "\"\"")))
            .collect();
        // The text is the store's own constant statements, never input. The result columns
        // are also the function's variables: `use_column` keeps every name in the statement
        // a column, as it was.
        conn.execute(AssertSqlSafe(format!(
            "CREATE OR REPLACE FUNCTION {name}({params}) RETURNS TABLE ({returns}) \
             LANGUAGE plpgsql AS $routine$\n#variable_conflict use_column\n\
             BEGIN RETURN QUERY {sql}; END\n$routine$",
            params = routine.params.join(", "),
            returns = returns.join(", "),
            sql = routine.sql,
        )))
        .await?;
    }
    Ok(())
}

/// The names and types of the columns `routine` (named `name`) returns, as the server parses
/// it with its parameters' types. The probe is named after the routine: the description of
/// its `EXECUTE` is cached by its text.
async fn result_columns(
    conn: &mut PgConnection,
    routine: &Routine,
    name: &str,
) -> Result<Vec<(String, String)>> {
    let probe = format!("{name}_probe");
    conn.execute(AssertSqlSafe(format!(
        "PREPARE {probe}({}) AS {}",
        routine.params.join(", "),
        routine.sql
    )))
    .await?;
    let described = async {
        let nulls = vec!["NULL"; routine.params.len()].join(", ");
        let described = conn
            .describe(AssertSqlSafe(format!("EXECUTE {probe}({nulls})")).into_sql_str())
            .await?;
        let mut names = Vec::new();
        let mut oids = Vec::new();
        for column in described.columns() {
            let oid = column.type_info().oid().ok_or_else(|| {
                Error::internal(format!("routine {name}: a column of no known type"))
            })?;
            names.push(column.name().to_owned());
            oids.push(i64::from(oid.0));
        }
        let types: Vec<String> = sqlx::query_scalar(
            "SELECT format_type(CAST(t.oid AS oid), NULL) \
             FROM unnest(CAST($1 AS bigint[])) WITH ORDINALITY AS t(oid, n) ORDER BY t.n",
        )
        .bind(oids)
        .fetch_all(&mut *conn)
        .await?;
        Ok::<_, Error>(names.into_iter().zip(types).collect())
    }
    .await;
    conn.execute(AssertSqlSafe(format!("DEALLOCATE {probe}")))
        .await?;
    described
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_text_and_the_types() {
        let routine = |sql: &str, params| Routine {
            sql: sql.to_owned(),
            params,
        };
        let name = routine("SELECT $1", &["text"]).name();
        assert!(name.starts_with(PREFIX));
        assert_eq!(name.len(), PREFIX.len() + 16);
        assert_eq!(name, routine("SELECT $1", &["text"]).name());
        assert_ne!(name, routine("SELECT $1 ", &["text"]).name());
        assert_ne!(name, routine("SELECT $1", &["date"]).name());
    }

    #[test]
    fn a_call_passes_every_parameter_in_order() {
        let routine = Routine {
            sql: "SELECT $1, $2".to_owned(),
            params: &["text", "date"],
        };
        assert_eq!(
            routine.call(),
            format!("SELECT * FROM {}($1, $2)", routine.name())
        );
    }

    #[test]
    fn only_the_routines_statements_are_called_instead() {
        assert!(call(profile::PROFILE_POSTGRES).is_some());
        assert!(call(&entries::insert_one_postgres()).is_some());
        assert!(call("SELECT 1").is_none());
    }

    #[test]
    fn only_unnamed_statements_on_postgres_are_sent_as_calls() {
        // The standing's text is the same on both backends.
        let standing = users::STANDING;
        assert_eq!(
            Some(super::super::sent::<sqlx::Postgres>(false, standing)),
            call(standing)
        );
        assert_eq!(
            super::super::sent::<sqlx::Postgres>(true, standing),
            standing
        );
        #[cfg(feature = "sqlite")]
        assert_eq!(
            super::super::sent::<sqlx::Sqlite>(false, standing),
            standing
        );
    }
}
