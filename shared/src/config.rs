//! Typed configuration, read once at start-up from the environment (CONTRACT §4).
//!
//! Every secret may come from `<NAME>`, from the file named by `<NAME>_FILE`, or from the previous
//! service's Docker secret under `/run/secrets/`. A misconfiguration is a [`ConfigError`] whose
//! one-line message names the variable; secrets are [`Secret`]s and never print.

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use url::Url;

use crate::secret::Secret;

/// Where the process runs; it decides which defaults the contract allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Runtime {
    /// The local server: embedded defaults for everything.
    Local,
    /// An AWS Lambda function: no silent defaults for the database or the JWT secret.
    Lambda,
}

impl Runtime {
    /// Lambda sets `AWS_LAMBDA_RUNTIME_API` in every function's environment.
    pub fn detect(env: &Env) -> Self {
        if env.var("AWS_LAMBDA_RUNTIME_API").is_some() {
            Runtime::Lambda
        } else {
            Runtime::Local
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("configuration error: {variable}: {problem}")]
pub struct ConfigError {
    pub variable: String,
    pub problem: String,
}

impl ConfigError {
    fn new(variable: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            variable: variable.into(),
            problem: problem.into(),
        }
    }
}

type ConfigResult<T> = std::result::Result<T, ConfigError>;

/// The variables the configuration is read from: the process environment in production, a
/// map in tests (so tests never mutate the process environment).
#[derive(Clone, Debug)]
pub struct Env {
    vars: HashMap<String, String>,
    secrets_dir: PathBuf,
}

impl Env {
    pub fn from_process() -> Self {
        Self {
            vars: std::env::vars().collect(),
            secrets_dir: PathBuf::from("/run/secrets"),
        }
    }

    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            secrets_dir: PathBuf::from("/run/secrets"),
        }
    }

    /// Where the previous service's Docker secrets are looked up (`/run/secrets`).
    pub fn with_secrets_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.secrets_dir = dir.into();
        self
    }

    /// A variable's value; unset and blank are the same.
    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// A secret from `NAME`, `NAME_FILE` or the Docker secret `docker_name`, in that order,
    /// without surrounding whitespace. An empty variable is unset; one of blanks only is a
    /// mistake (a key of spaces would be accepted by HS256), not a secret.
    pub fn secret(&self, name: &str, docker_name: Option<&str>) -> ConfigResult<Option<Secret>> {
        if let Some(value) = self.vars.get(name).filter(|v| !v.is_empty()) {
            let value = value.trim();
            if value.is_empty() {
                return Err(ConfigError::new(name, "is blank"));
            }
            return Ok(Some(Secret::new(value)));
        }
        let file_var = format!("{name}_FILE");
        if let Some(path) = self.var(&file_var) {
            return read_secret_file(Path::new(path))
                .map(Some)
                .map_err(|problem| ConfigError::new(file_var, problem));
        }
        if let Some(docker_name) = docker_name {
            let path = self.secrets_dir.join(docker_name);
            if path.is_file() {
                return read_secret_file(&path)
                    .map(Some)
                    .map_err(|problem| ConfigError::new(name, problem));
            }
        }
        Ok(None)
    }

    fn parse<T: std::str::FromStr>(&self, name: &str, expected: &str) -> ConfigResult<Option<T>> {
        self.var(name)
            .map(|raw| {
                raw.parse()
                    .map_err(|_| ConfigError::new(name, format!("expected {expected}")))
            })
            .transpose()
    }
}

fn read_secret_file(path: &Path) -> Result<Secret, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read secret file {}: {}", path.display(), e.kind()))?;
    let value = text.trim();
    if value.is_empty() {
        return Err(format!("secret file {} is empty", path.display()));
    }
    Ok(Secret::new(value))
}

#[derive(Clone, Debug)]
pub struct Config {
    pub runtime: Runtime,
    pub database: DatabaseConfig,
    pub jwt: JwtConfig,
    pub auth_service_url: Option<Url>,
    pub object_store: ObjectStoreConfig,
    pub buckets: Buckets,
    pub data_dir: PathBuf,
    pub bind: IpAddr,
    pub port: u16,
    pub cors: CorsOrigins,
    pub log: LogConfig,
}

impl Config {
    /// Reads the whole configuration. On the local runtime this may create `DATA_DIR` and the
    /// generated development JWT secret in it; nothing else touches the outside world.
    pub fn load(env: &Env) -> ConfigResult<Self> {
        let runtime = Runtime::detect(env);
        let data_dir = PathBuf::from(env.var("DATA_DIR").unwrap_or("./.data"));
        let bind = env
            .parse("BIND", "an IP address")?
            .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
        let port = env.parse("PORT", "a port number")?.unwrap_or(8082);
        Ok(Self {
            runtime,
            database: DatabaseConfig::load(env, runtime, &data_dir)?,
            auth_service_url: env
                .var("AUTH_SERVICE_URL")
                .map(|raw| parse_http_url("AUTH_SERVICE_URL", raw))
                .transpose()?,
            object_store: ObjectStoreConfig::load(env, runtime, &data_dir, (bind, port))?,
            buckets: Buckets::load(env)?,
            bind,
            port,
            cors: CorsOrigins::load(env)?,
            log: LogConfig::load(env, runtime)?,
            // Last: locally it may write the generated secret, which a bad setting should not.
            jwt: JwtConfig::load(env, runtime, &data_dir)?,
            data_dir,
        })
    }
}

fn parse_http_url(variable: &str, raw: &str) -> ConfigResult<Url> {
    let url = Url::parse(raw).map_err(|_| ConfigError::new(variable, "expected an http(s) URL"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(ConfigError::new(variable, "expected an http(s) URL"));
    }
    Ok(url)
}

#[derive(Clone, Debug)]
pub struct DatabaseConfig {
    pub backend: DatabaseBackend,
    /// Connections per process. A Lambda environment serves one request at a time: 1 there.
    pub max_connections: u32,
    /// Prepared statements cached per connection; 0 turns named statements off (for poolers
    /// such as RDS Proxy, which pin a session that uses them).
    pub statement_cache_capacity: usize,
    /// The longest one database operation of a request may take, the wait for a connection
    /// included; past it the request answers 503. 4.5 s, so that a request whose database
    /// went silent answers within the 5 s of CONTRACT §1.
    pub deadline: Duration,
}

#[derive(Clone, Debug)]
pub enum DatabaseBackend {
    /// A `postgres://` URL; it carries the password, so it is a secret.
    Postgres {
        url: Secret,
    },
    Sqlite {
        path: PathBuf,
    },
}

impl DatabaseConfig {
    fn load(env: &Env, runtime: Runtime, data_dir: &Path) -> ConfigResult<Self> {
        let backend = match env.secret("DATABASE_URL", None)? {
            Some(url) => DatabaseBackend::parse(url)?,
            None => match env.var("POSTGRES_HOST") {
                Some(host) => DatabaseBackend::from_postgres_vars(env, host)?,
                None if runtime == Runtime::Local => DatabaseBackend::Sqlite {
                    path: data_dir.join("user-service.db"),
                },
                None => {
                    return Err(ConfigError::new(
                        "DATABASE_URL",
                        "not set; a Lambda function needs a postgres:// URL",
                    ));
                }
            },
        };
        // Lambda functions are built without SQLite, and a file in a Lambda environment
        // would not outlive it anyway.
        if runtime == Runtime::Lambda && matches!(backend, DatabaseBackend::Sqlite { .. }) {
            return Err(ConfigError::new(
                "DATABASE_URL",
                "names SQLite; a Lambda function needs a postgres:// URL",
            ));
        }
        let default_connections = match runtime {
            Runtime::Lambda => 1,
            Runtime::Local => 10,
        };
        let max_connections = env
            .parse("DB_MAX_CONNECTIONS", "a positive integer")?
            .unwrap_or(default_connections);
        if max_connections == 0 {
            return Err(ConfigError::new(
                "DB_MAX_CONNECTIONS",
                "expected a positive integer",
            ));
        }
        Ok(Self {
            backend,
            max_connections,
            statement_cache_capacity: env
                .parse("DB_STATEMENT_CACHE_CAPACITY", "a non-negative integer")?
                .unwrap_or(100),
            deadline: Duration::from_millis(4500),
        })
    }
}

impl DatabaseBackend {
    fn parse(url: Secret) -> ConfigResult<Self> {
        let raw = url.expose();
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            Url::parse(raw)
                .map_err(|_| ConfigError::new("DATABASE_URL", "not a valid postgres:// URL"))?;
            return Ok(DatabaseBackend::Postgres { url });
        }
        if let Some(rest) = raw.strip_prefix("sqlite:") {
            let path = rest.trim_start_matches("//");
            let path = path.split('?').next().unwrap_or_default();
            if path.is_empty() || path == ":memory:" {
                return Err(ConfigError::new(
                    "DATABASE_URL",
                    "a sqlite URL needs a file path (sqlite://path/to/file.db)",
                ));
            }
            return Ok(DatabaseBackend::Sqlite {
                path: PathBuf::from(path),
            });
        }
        Err(ConfigError::new(
            "DATABASE_URL",
            "expected a postgres:// or sqlite:// URL",
        ))
    }

    /// The previous service named its database with `POSTGRES_*` variables.
    fn from_postgres_vars(env: &Env, host: &str) -> ConfigResult<Self> {
        let port: u16 = env.parse("POSTGRES_PORT", "a port number")?.unwrap_or(5432);
        let user = env
            .var("POSTGRES_USER")
            .ok_or_else(|| ConfigError::new("POSTGRES_USER", "not set (POSTGRES_HOST is)"))?;
        let db = env
            .var("POSTGRES_DB")
            .ok_or_else(|| ConfigError::new("POSTGRES_DB", "not set (POSTGRES_HOST is)"))?;
        let mut url = Url::parse("postgres://localhost")
            .map_err(|_| ConfigError::new("POSTGRES_HOST", "invalid"))?;
        let invalid = |variable: &str| ConfigError::new(variable, "not usable in a database URL");
        url.set_host(Some(host))
            .map_err(|_| invalid("POSTGRES_HOST"))?;
        url.set_port(Some(port))
            .map_err(|_| invalid("POSTGRES_PORT"))?;
        url.set_username(user)
            .map_err(|_| invalid("POSTGRES_USER"))?;
        if let Some(password) = env.secret("POSTGRES_PASSWORD", Some("db_password"))? {
            url.set_password(Some(password.expose()))
                .map_err(|_| invalid("POSTGRES_PASSWORD"))?;
        }
        url.set_path(db);
        Ok(DatabaseBackend::Postgres {
            url: Secret::new(url.to_string()),
        })
    }
}

#[derive(Clone, Debug)]
pub struct JwtConfig {
    pub secret: Secret,
    pub issuer: Option<String>,
    pub audience: Option<String>,
}

impl JwtConfig {
    fn load(env: &Env, runtime: Runtime, data_dir: &Path) -> ConfigResult<Self> {
        let secret = match env.secret("JWT_SECRET", Some("jwt_secret"))? {
            Some(secret) => secret,
            None if runtime == Runtime::Local => local_jwt_secret(data_dir)?,
            None => {
                return Err(ConfigError::new(
                    "JWT_SECRET",
                    "not set; the Auth Service's HS256 secret is required",
                ));
            }
        };
        Ok(Self {
            secret,
            issuer: env.var("JWT_ISSUER").map(str::to_owned),
            audience: env.var("JWT_AUDIENCE").map(str::to_owned),
        })
    }
}

/// The local server's development secret: generated once, kept in `$DATA_DIR/jwt_secret`.
fn local_jwt_secret(data_dir: &Path) -> ConfigResult<Secret> {
    let path = data_dir.join("jwt_secret");
    let problem = |what: &str, e: std::io::Error| {
        ConfigError::new(
            "DATA_DIR",
            format!("cannot {what} {}: {}", path.display(), e.kind()),
        )
    };
    match std::fs::read_to_string(&path) {
        Ok(text) if !text.trim().is_empty() => return Ok(Secret::new(text.trim())),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(problem("read", e)),
    }
    std::fs::create_dir_all(data_dir).map_err(|e| problem("create the folder of", e))?;
    let generated = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    write_private_file(&path, &generated).map_err(|e| problem("write", e))?;
    Ok(Secret::new(generated))
}

fn write_private_file(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(contents.as_bytes())
}

#[derive(Clone, Debug)]
pub enum ObjectStoreConfig {
    /// A folder with one sub-folder per bucket (the embedded default), whose objects the
    /// local server serves on signed URLs under `public_base_url`.
    Local {
        root: PathBuf,
        public_base_url: String,
    },
    S3(S3Config),
}

#[derive(Clone, Debug)]
pub struct S3Config {
    /// A custom S3-compatible endpoint (MinIO, LocalStack); `None` is AWS S3 itself.
    pub endpoint: Option<String>,
    pub region: String,
    /// Static keys; `None` uses the AWS default credential chain (the Lambda role).
    pub credentials: Option<S3Credentials>,
}

#[derive(Clone, Debug)]
pub struct S3Credentials {
    pub access_key: Secret,
    pub secret_key: Secret,
}

impl ObjectStoreConfig {
    fn load(
        env: &Env,
        runtime: Runtime,
        data_dir: &Path,
        (bind, port): (IpAddr, u16),
    ) -> ConfigResult<Self> {
        let endpoint = match (env.var("S3_ENDPOINT"), env.var("MINIO_HOST")) {
            (Some(endpoint), _) => Some(parse_http_url("S3_ENDPOINT", endpoint)?),
            (None, Some(host)) => {
                let port: u16 = env.parse("MINIO_PORT", "a port number")?.unwrap_or(9000);
                let scheme = match env.var("MINIO_SECURE") {
                    Some("true" | "1") => "https",
                    _ => "http",
                };
                Some(parse_http_url(
                    "MINIO_HOST",
                    &format!("{scheme}://{host}:{port}"),
                )?)
            }
            (None, None) => None,
        };
        let use_s3 = match env.var("IMAGE_STORE") {
            Some("s3") => true,
            Some("local") => {
                if endpoint.is_some() {
                    return Err(ConfigError::new(
                        "IMAGE_STORE",
                        "is local, but S3_ENDPOINT or MINIO_HOST is set",
                    ));
                }
                false
            }
            Some(_) => return Err(ConfigError::new("IMAGE_STORE", "expected s3 or local")),
            None => endpoint.is_some() || runtime == Runtime::Lambda,
        };
        if !use_s3 {
            let public_base_url = match env.var("PUBLIC_BASE_URL") {
                Some(url) => parse_http_url("PUBLIC_BASE_URL", url)?
                    .as_str()
                    .trim_end_matches('/')
                    .to_owned(),
                None => format!("http://{}", std::net::SocketAddr::new(bind, port)),
            };
            return Ok(ObjectStoreConfig::Local {
                root: data_dir.join("images"),
                public_base_url,
            });
        }
        let access_key = first_secret(
            env,
            &[
                ("S3_ACCESS_KEY", None),
                ("MINIO_ACCESS_KEY", Some("minio_access_key")),
            ],
        )?;
        let secret_key = first_secret(
            env,
            &[
                ("S3_SECRET_KEY", None),
                ("MINIO_SECRET_KEY", Some("minio_secret_key")),
            ],
        )?;
        let credentials = match (access_key, secret_key) {
            (Some(access_key), Some(secret_key)) => Some(S3Credentials {
                access_key,
                secret_key,
            }),
            (None, None) => None,
            (Some(_), None) => {
                return Err(ConfigError::new(
                    "S3_SECRET_KEY",
                    "not set (S3_ACCESS_KEY is)",
                ));
            }
            (None, Some(_)) => {
                return Err(ConfigError::new(
                    "S3_ACCESS_KEY",
                    "not set (S3_SECRET_KEY is)",
                ));
            }
        };
        Ok(ObjectStoreConfig::S3(S3Config {
            endpoint: endpoint.map(|url| url.as_str().trim_end_matches('/').to_owned()),
            region: env
                .var("S3_REGION")
                .or_else(|| env.var("AWS_REGION"))
                .unwrap_or("us-east-1")
                .to_owned(),
            credentials,
        }))
    }
}

fn first_secret(env: &Env, names: &[(&str, Option<&str>)]) -> ConfigResult<Option<Secret>> {
    for (name, docker_name) in names {
        if let Some(secret) = env.secret(name, *docker_name)? {
            return Ok(Some(secret));
        }
    }
    Ok(None)
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Buckets {
    pub profile_pictures: String,
    pub food_images: String,
    /// Where `POST /exports` writes its documents (kept a day).
    pub exports: String,
}

impl Buckets {
    /// The contract's names, and the defaults.
    pub const PROFILE_PICTURES: &str = "profile-pictures";
    pub const FOOD_IMAGES: &str = "food-images";
    pub const EXPORTS: &str = "exports";

    fn load(env: &Env) -> ConfigResult<Self> {
        let bucket = |variable: &str, default: &str| -> ConfigResult<String> {
            let name = env.var(variable).unwrap_or(default);
            if is_valid_bucket_name(name) {
                Ok(name.to_owned())
            } else {
                Err(ConfigError::new(
                    variable,
                    "expected an S3 bucket name (3-63 lowercase letters, digits, '-' or '.')",
                ))
            }
        };
        let buckets = Self {
            profile_pictures: bucket("PROFILE_PICTURES_BUCKET", Self::PROFILE_PICTURES)?,
            food_images: bucket("FOOD_IMAGES_BUCKET", Self::FOOD_IMAGES)?,
            exports: bucket("EXPORTS_BUCKET", Self::EXPORTS)?,
        };
        if buckets.profile_pictures == buckets.food_images {
            return Err(ConfigError::new(
                "FOOD_IMAGES_BUCKET",
                "must differ from PROFILE_PICTURES_BUCKET",
            ));
        }
        if buckets.all().contains(&buckets.exports.as_str()) {
            return Err(ConfigError::new(
                "EXPORTS_BUCKET",
                "must differ from the image buckets",
            ));
        }
        Ok(buckets)
    }

    /// The two image buckets.
    pub fn all(&self) -> [&str; 2] {
        [&self.profile_pictures, &self.food_images]
    }

    /// Every bucket that holds objects of a user (deleted with the account).
    pub fn of_users(&self) -> [&str; 3] {
        [&self.profile_pictures, &self.food_images, &self.exports]
    }
}

fn is_valid_bucket_name(name: &str) -> bool {
    (3..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
        && !name.contains("..")
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CorsOrigins {
    Any,
    List(Vec<http::HeaderValue>),
}

impl CorsOrigins {
    fn load(env: &Env) -> ConfigResult<Self> {
        let raw = env.var("CORS_ALLOWED_ORIGINS").unwrap_or("*");
        if raw == "*" {
            return Ok(CorsOrigins::Any);
        }
        // Browsers send `Origin` as scheme, host and port only (lowercase, punycode, no
        // default port), and it is compared as text: each entry is kept in that form, and
        // one with a path, query or credentials, which could never match, is refused.
        raw.split(',')
            .map(str::trim)
            .filter(|origin| !origin.is_empty())
            .map(|origin| {
                Url::parse(origin)
                    .ok()
                    .filter(|url| {
                        matches!(url.scheme(), "http" | "https")
                            && url.path() == "/"
                            && url.query().is_none()
                            && url.fragment().is_none()
                            && url.username().is_empty()
                            && url.password().is_none()
                    })
                    .and_then(|url| {
                        http::HeaderValue::from_str(&url.origin().ascii_serialization()).ok()
                    })
                    .ok_or_else(|| {
                        ConfigError::new(
                            "CORS_ALLOWED_ORIGINS",
                            format!("not an origin (scheme://host[:port]): {origin}"),
                        )
                    })
            })
            .collect::<ConfigResult<Vec<_>>>()
            .map(CorsOrigins::List)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Pretty,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogConfig {
    pub filter: String,
    pub format: LogFormat,
}

impl LogConfig {
    fn load(env: &Env, runtime: Runtime) -> ConfigResult<Self> {
        let format = match env.var("LOG_FORMAT") {
            Some("json") => LogFormat::Json,
            Some("pretty") => LogFormat::Pretty,
            Some(_) => return Err(ConfigError::new("LOG_FORMAT", "expected json or pretty")),
            None if runtime == Runtime::Lambda => LogFormat::Json,
            None => LogFormat::Pretty,
        };
        let filter = env.var("RUST_LOG").unwrap_or("info");
        tracing_subscriber::EnvFilter::builder()
            .parse(filter)
            .map_err(|err| ConfigError::new("RUST_LOG", format!("not a log filter: {err}")))?;
        Ok(Self {
            filter: filter.to_owned(),
            format,
        })
    }
}

impl fmt::Display for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Runtime::Local => "local",
            Runtime::Lambda => "lambda",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(pairs: &[(&str, &str)]) -> (Env, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let mut vars: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        vars.push(("DATA_DIR".into(), dir.path().display().to_string()));
        let env = Env::from_pairs(vars).with_secrets_dir(dir.path().join("secrets"));
        (env, dir)
    }

    fn lambda(pairs: &[(&str, &str)]) -> (Env, tempfile::TempDir) {
        let mut all = vec![("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001")];
        all.extend_from_slice(pairs);
        local(&all)
    }

    #[test]
    fn local_defaults_need_nothing() {
        let (env, dir) = local(&[]);
        let config = Config::load(&env).unwrap();
        assert_eq!(config.runtime, Runtime::Local);
        assert!(matches!(
            &config.database.backend,
            DatabaseBackend::Sqlite { path } if *path == dir.path().join("user-service.db")
        ));
        assert!(matches!(
            &config.object_store,
            ObjectStoreConfig::Local { root, public_base_url }
                if *root == dir.path().join("images") && public_base_url == "http://127.0.0.1:8082"
        ));
        assert_eq!(config.port, 8082);
        assert_eq!(config.bind, IpAddr::V4(Ipv4Addr::LOCALHOST));
        assert_eq!(config.cors, CorsOrigins::Any);
        assert_eq!(config.log.format, LogFormat::Pretty);
        assert_eq!(config.buckets.profile_pictures, "profile-pictures");
        assert_eq!(config.buckets.food_images, "food-images");
        assert!(config.auth_service_url.is_none());
    }

    #[test]
    fn local_jwt_secret_is_generated_once_and_kept() {
        let (env, dir) = local(&[]);
        let first = Config::load(&env).unwrap().jwt.secret;
        let second = Config::load(&env).unwrap().jwt.secret;
        assert_eq!(first, second);
        assert!(first.expose().len() >= 32);
        let stored = std::fs::read_to_string(dir.path().join("jwt_secret")).unwrap();
        assert_eq!(stored, first.expose());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("jwt_secret"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn lambda_refuses_to_start_without_database_or_secret() {
        let (env, _dir) = lambda(&[("JWT_SECRET", "s")]);
        let err = Config::load(&env).unwrap_err();
        assert_eq!(err.variable, "DATABASE_URL");

        let (env, _dir) = lambda(&[
            ("DATABASE_URL", "sqlite://some/file.db"),
            ("JWT_SECRET", "s"),
        ]);
        let err = Config::load(&env).unwrap_err();
        assert_eq!(
            err.to_string(),
            "configuration error: DATABASE_URL: names SQLite; a Lambda function needs a postgres:// URL"
        );

        let (env, _dir) = lambda(&[("DATABASE_URL", "postgres://db/x")]);
        let err = Config::load(&env).unwrap_err();
        assert_eq!(err.variable, "JWT_SECRET");
        assert!(
            err.to_string()
                .starts_with("configuration error: JWT_SECRET")
        );
    }

    #[test]
    fn lambda_defaults_to_json_logs_one_connection_and_aws_s3() {
        let (env, _dir) = lambda(&[("DATABASE_URL", "postgres://db/x"), ("JWT_SECRET", "s")]);
        let config = Config::load(&env).unwrap();
        assert_eq!(config.log.format, LogFormat::Json);
        assert_eq!(config.database.max_connections, 1);
        let ObjectStoreConfig::S3(s3) = config.object_store else {
            panic!("expected S3")
        };
        assert_eq!(s3.endpoint, None);
        assert!(s3.credentials.is_none());
    }

    #[test]
    fn database_url_selects_the_backend() {
        let (env, _dir) = local(&[("DATABASE_URL", "sqlite://some/file.db")]);
        let config = Config::load(&env).unwrap();
        assert!(matches!(
            config.database.backend,
            DatabaseBackend::Sqlite { ref path } if path == Path::new("some/file.db")
        ));

        for bad in [
            "mysql://x/y",
            "sqlite://",
            "sqlite::memory:",
            "postgres://[::1",
        ] {
            let (env, _dir) = local(&[("DATABASE_URL", bad)]);
            assert_eq!(
                Config::load(&env).unwrap_err().variable,
                "DATABASE_URL",
                "{bad}"
            );
        }
    }

    #[test]
    fn postgres_variables_build_an_encoded_url() {
        let (env, _dir) = local(&[
            ("POSTGRES_HOST", "db.internal"),
            ("POSTGRES_DB", "users"),
            ("POSTGRES_USER", "svc"),
            ("POSTGRES_PASSWORD", "p@ss/w:rd"),
        ]);
        let config = Config::load(&env).unwrap();
        let DatabaseBackend::Postgres { url } = &config.database.backend else {
            panic!("expected postgres")
        };
        assert_eq!(
            url.expose(),
            "postgres://svc:p%40ss%2Fw%3Ard@db.internal:5432/users"
        );
        assert!(!format!("{config:?}").contains("p@ss"));
    }

    #[test]
    fn secret_file_variable_is_read_without_its_trailing_newline() {
        let files = tempfile::tempdir().unwrap();
        let file = files.path().join("jwt");
        std::fs::write(&file, "from-file\n").unwrap();
        let (env, _dir) = local(&[("JWT_SECRET_FILE", file.to_str().unwrap())]);
        assert_eq!(Config::load(&env).unwrap().jwt.secret.expose(), "from-file");
    }

    #[test]
    fn docker_secrets_of_the_previous_service_are_read() {
        let (env, dir) = local(&[("MINIO_HOST", "minio")]);
        let secrets = dir.path().join("secrets");
        std::fs::create_dir_all(&secrets).unwrap();
        std::fs::write(secrets.join("jwt_secret"), "from-docker").unwrap();
        std::fs::write(secrets.join("minio_access_key"), "ak").unwrap();
        std::fs::write(secrets.join("minio_secret_key"), "sk\n").unwrap();
        let config = Config::load(&env).unwrap();
        assert_eq!(config.jwt.secret.expose(), "from-docker");
        let ObjectStoreConfig::S3(s3) = config.object_store else {
            panic!("expected S3")
        };
        assert_eq!(s3.endpoint.as_deref(), Some("http://minio:9000"));
        let credentials = s3.credentials.unwrap();
        assert_eq!(credentials.access_key.expose(), "ak");
        assert_eq!(credentials.secret_key.expose(), "sk");
    }

    #[test]
    fn secrets_are_trimmed_and_blank_ones_refused() {
        let (env, _dir) = local(&[("JWT_SECRET", "  padded-secret \n")]);
        assert_eq!(
            Config::load(&env).unwrap().jwt.secret.expose(),
            "padded-secret"
        );
        for blank in ["  ", "\t\n"] {
            let (env, _dir) = lambda(&[("DATABASE_URL", "postgres://db/x"), ("JWT_SECRET", blank)]);
            let err = Config::load(&env).unwrap_err();
            assert_eq!(err.variable, "JWT_SECRET");
            assert_eq!(err.problem, "is blank");
        }
        let (env, _dir) = local(&[("DATABASE_URL", "  postgres://db/x  ")]);
        let config = Config::load(&env).unwrap();
        assert!(matches!(
            config.database.backend,
            DatabaseBackend::Postgres { .. }
        ));
    }

    #[test]
    fn missing_secret_file_names_the_variable() {
        let (env, _dir) = local(&[("JWT_SECRET_FILE", "/nonexistent/secret")]);
        let err = Config::load(&env).unwrap_err();
        assert_eq!(err.variable, "JWT_SECRET_FILE");
        assert!(!err.problem.is_empty());
    }

    #[test]
    fn s3_endpoint_with_half_the_credentials_is_rejected() {
        let (env, _dir) = local(&[
            ("S3_ENDPOINT", "http://127.0.0.1:9000/"),
            ("S3_ACCESS_KEY", "ak"),
        ]);
        assert_eq!(Config::load(&env).unwrap_err().variable, "S3_SECRET_KEY");

        let (env, _dir) = local(&[
            ("S3_ENDPOINT", "http://127.0.0.1:9000/"),
            ("S3_ACCESS_KEY", "ak"),
            ("S3_SECRET_KEY", "sk"),
            ("S3_REGION", "eu-west-1"),
        ]);
        let ObjectStoreConfig::S3(s3) = Config::load(&env).unwrap().object_store else {
            panic!("expected S3")
        };
        assert_eq!(s3.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(s3.region, "eu-west-1");
    }

    #[test]
    fn invalid_values_name_their_variable() {
        let cases = [
            ("PORT", "eighty"),
            ("BIND", "localhost:1"),
            ("AUTH_SERVICE_URL", "ftp://auth"),
            ("S3_ENDPOINT", "not a url"),
            ("IMAGE_STORE", "gcs"),
            ("LOG_FORMAT", "xml"),
            ("PROFILE_PICTURES_BUCKET", "Bad_Bucket"),
            ("CORS_ALLOWED_ORIGINS", "https://ok.example, not-an-origin"),
            ("CORS_ALLOWED_ORIGINS", "https://app.example.com/login"),
            ("CORS_ALLOWED_ORIGINS", "https://app.example.com?x=1"),
            ("CORS_ALLOWED_ORIGINS", "https://user@app.example.com"),
            ("DB_MAX_CONNECTIONS", "0"),
            ("RUST_LOG", "foo=notalevel"),
        ];
        for (variable, value) in cases {
            let (env, _dir) = local(&[(variable, value)]);
            assert_eq!(
                Config::load(&env).unwrap_err().variable,
                variable,
                "{variable}={value}"
            );
        }
    }

    #[test]
    fn cors_origins_are_a_list() {
        let (env, _dir) = local(&[(
            "CORS_ALLOWED_ORIGINS",
            "https://app.example.com, http://localhost:3000",
        )]);
        let CorsOrigins::List(origins) = Config::load(&env).unwrap().cors else {
            panic!("expected a list")
        };
        assert_eq!(
            origins,
            ["https://app.example.com", "http://localhost:3000"]
        );
        // Kept as browsers send `Origin`, so that they match.
        let (env, _dir) = local(&[(
            "CORS_ALLOWED_ORIGINS",
            "https://App.Example.com/, https://api.example.com:443",
        )]);
        let CorsOrigins::List(origins) = Config::load(&env).unwrap().cors else {
            panic!("expected a list")
        };
        assert_eq!(
            origins,
            ["https://app.example.com", "https://api.example.com"]
        );
    }
}
