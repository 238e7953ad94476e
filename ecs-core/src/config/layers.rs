//! Turns each source of settings (a metadata table, `CARGO_ECS_*` variables, flags) into a flat layer of
//! `dotted.path -> value`, checking every key against the schema and every value against its kind.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::error::SettingError;
use super::schema::{self, ENV_PREFIX, ENVIRONMENTS, Kind, TABLES};
use super::source::Source;
use super::validate;

/// Values from one source, by dotted path (`load-balancer.name`, `env.RUST_LOG`).
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    /// Where every value of this layer came from.
    pub source: Source,
    /// The values.
    pub values: BTreeMap<String, Value>,
}

/// One `[...metadata.ecs]` table: its own values and its environment overlays by name.
#[derive(Debug, Clone, PartialEq)]
pub struct MetadataLayers {
    /// The table's values, without `environments`.
    pub base: Layer,
    /// `environments.NAME` tables.
    pub environments: BTreeMap<String, Layer>,
}

/// Reads a `[...metadata.ecs]` table. `overlay_source` makes the source of an environment overlay from its name.
///
/// # Errors
/// Every unknown key and every value of the wrong kind, each with its place.
pub fn from_metadata(
    table: &Value,
    source: Source,
    overlay_source: impl Fn(&str) -> Source,
) -> Result<MetadataLayers, Vec<SettingError>> {
    let mut errors = Vec::new();
    let Some(table) = table.as_object() else {
        let err = SettingError::new("", Some(&source), format!("must be a table, found {}", type_name(table)))
            .help("write the settings as a table: [package.metadata.ecs] followed by key = value lines");
        return Err(vec![err]);
    };
    let base = Layer { values: flatten(table, &source, &mut errors), source };
    let mut environments = BTreeMap::new();
    match table.get(ENVIRONMENTS) {
        None => {}
        Some(Value::Object(overlays)) => {
            for (name, overlay) in overlays {
                let overlay_src = overlay_source(name);
                if let Err(invalid) = validate::environment_name(name) {
                    errors
                        .push(SettingError::new(ENVIRONMENTS, Some(&base.source), invalid.message).help(invalid.help));
                    continue;
                }
                let Some(overlay) = overlay.as_object() else {
                    errors.push(
                        SettingError::new(format!("{ENVIRONMENTS}.{name}"), Some(&base.source), "must be a table")
                            .help(format!("write it as a table: {}", overlay_src.table().unwrap_or_default())),
                    );
                    continue;
                };
                if overlay.contains_key(ENVIRONMENTS) {
                    errors.push(
                        SettingError::new(ENVIRONMENTS, Some(&overlay_src), "environments cannot be nested")
                            .help("define every environment directly under [package.metadata.ecs.environments]"),
                    );
                }
                let values = flatten(overlay, &overlay_src, &mut errors);
                environments.insert(name.clone(), Layer { source: overlay_src, values });
            }
        }
        Some(other) => errors.push(
            SettingError::new(ENVIRONMENTS, Some(&base.source), format!("must be a table, found {}", type_name(other)))
                .help("write overlays as tables: [package.metadata.ecs.environments.prod]"),
        ),
    }
    if errors.is_empty() { Ok(MetadataLayers { base, environments }) } else { Err(errors) }
}

fn flatten(table: &Map<String, Value>, source: &Source, errors: &mut Vec<SettingError>) -> BTreeMap<String, Value> {
    let mut values = BTreeMap::new();
    for (name, value) in table {
        if name == ENVIRONMENTS {
            continue;
        }
        if TABLES.contains(&name.as_str()) {
            match value.as_object() {
                Some(inner) => {
                    for (inner_name, inner_value) in inner {
                        let path = format!("{name}.{inner_name}");
                        insert_checked(&path, Some(name), inner_name, inner_value, source, &mut values, errors);
                    }
                }
                None => errors.push(
                    SettingError::new(
                        name.as_str(),
                        Some(source),
                        format!("must be a table, found {}", type_name(value)),
                    )
                    .help(format!("write it as a table: `{name} = {{ ... }}` or a [..ecs.{name}] section")),
                ),
            }
        } else {
            insert_checked(name, None, name, value, source, &mut values, errors);
        }
    }
    values
}

fn insert_checked(
    path: &str,
    table: Option<&str>,
    name: &str,
    value: &Value,
    source: &Source,
    values: &mut BTreeMap<String, Value>,
    errors: &mut Vec<SettingError>,
) {
    let Some(key) = schema::key(path) else {
        errors.push(unknown_key(path, table, name, source));
        return;
    };
    if key.kind == Kind::Map {
        let Some(entries) = value.as_object() else {
            errors.push(
                SettingError::new(path, Some(source), format!("must be a table, found {}", type_name(value)))
                    .help(format!("write it as a table of NAME = \"value\", e.g. {path} = {{ RUST_LOG = \"info\" }}")),
            );
            return;
        };
        for (entry, entry_value) in entries {
            let entry_path = format!("{path}.{entry}");
            match entry_value {
                Value::String(s) => values.insert(entry_path, Value::String(s.clone())),
                Value::Number(n) => values.insert(entry_path, Value::String(n.to_string())),
                Value::Bool(b) => values.insert(entry_path, Value::String(b.to_string())),
                other => {
                    errors.push(
                        SettingError::new(
                            entry_path,
                            Some(source),
                            format!("must be a string, found {}", type_name(other)),
                        )
                        .help("each entry is NAME = \"value\""),
                    );
                    None
                }
            };
        }
        return;
    }
    match check_kind(key.kind, value) {
        Ok(()) => {
            values.insert(path.to_owned(), value.clone());
        }
        Err(help) => errors.push(
            SettingError::new(
                path,
                Some(source),
                format!("expected {}, found {}", expected(key.kind), describe(value)),
            )
            .help(help),
        ),
    }
}

fn unknown_key(path: &str, table: Option<&str>, name: &str, source: &Source) -> SettingError {
    let known = schema::names_in(table);
    let mut err = SettingError::new(path, Some(source), "unknown setting");
    let where_ = table.map_or_else(|| "here".to_owned(), |t| format!("in `{t}`"));
    err = match schema::did_you_mean(name, known.iter().copied()) {
        Some(suggestion) => err.help(format!("did you mean `{suggestion}`?")),
        None => err.help(format!("settings allowed {where_}: {}", known.join(", "))),
    };
    err
}

/// Reads the `CARGO_ECS_*` variables among `vars`, one layer per variable. Tool variables
/// (`CARGO_ECS_REGISTRY_ENDPOINT`, ...) are skipped; empty values count as unset.
///
/// # Errors
/// Unknown `CARGO_ECS_*` variables (with a suggestion) and values that do not parse.
pub fn from_env_vars(vars: &BTreeMap<String, String>) -> Result<Vec<Layer>, Vec<SettingError>> {
    let mut layers = Vec::new();
    let mut errors = Vec::new();
    let by_var: BTreeMap<String, &schema::Key> =
        schema::KEYS.iter().filter_map(|k| k.env_var().map(|v| (v, k))).collect();
    for (name, raw) in vars {
        let is_tool = schema::TOOL_ENV_VARS.iter().any(|(n, _)| n == name)
            || schema::TOOL_ENV_PREFIXES.iter().any(|p| name.starts_with(p));
        if !name.starts_with(ENV_PREFIX) || is_tool || raw.is_empty() {
            continue;
        }
        let source = Source::EnvVar { name: name.clone() };
        let Some(key) = by_var.get(name) else {
            let candidates = by_var.keys().map(String::as_str).chain(schema::TOOL_ENV_VARS.iter().map(|(n, _)| *n));
            let help = schema::did_you_mean(name, candidates).map_or_else(
                || "each setting has one: CARGO_ECS_ + its path upper-cased, '-' and '.' as '_' (e.g. CARGO_ECS_IMAGE_BUILDER)".to_owned(),
                |s| format!("did you mean {s}?"),
            );
            errors.push(SettingError::new(name.as_str(), Some(&source), "unknown CARGO_ECS_ variable").help(help));
            continue;
        };
        match parse_text(key.kind, raw) {
            Ok(value) => layers.push(Layer { source, values: BTreeMap::from([(key.path.to_owned(), value)]) }),
            Err(help) => errors.push(
                SettingError::new(key.path, Some(&source), format!("expected {}, found \"{raw}\"", expected(key.kind)))
                    .help(help),
            ),
        }
    }
    if errors.is_empty() { Ok(layers) } else { Err(errors) }
}

/// One setting given on the command line: the flag as typed, the dotted path, and the text value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagSetting {
    /// How the user wrote it, e.g. `--region` or `--set cpu=512`.
    pub flag: String,
    /// The dotted path, e.g. `cpu` or `env.RUST_LOG`.
    pub path: String,
    /// The value as text.
    pub value: String,
}

impl FlagSetting {
    /// Parses `KEY=VALUE` as given to `--set`.
    ///
    /// # Errors
    /// When there is no `=`.
    pub fn parse_set(text: &str) -> Result<Self, SettingError> {
        let flag = format!("--set {text}");
        match text.split_once('=') {
            Some((path, value)) if !path.trim().is_empty() => {
                Ok(Self { flag, path: path.trim().to_owned(), value: value.to_owned() })
            }
            _ => Err(SettingError::new(text, Some(&Source::Flag { flag }), "expected KEY=VALUE")
                .help("e.g. --set memory=1024 or --set env.RUST_LOG=debug")),
        }
    }
}

/// One layer per flag setting, in the order given (a later flag wins over an earlier one).
///
/// # Errors
/// Unknown keys and values that do not parse.
pub fn from_flags(flags: &[FlagSetting]) -> Result<Vec<Layer>, Vec<SettingError>> {
    let mut layers = Vec::new();
    let mut errors = Vec::new();
    for flag in flags {
        let source = Source::Flag { flag: flag.flag.clone() };
        let parsed = if schema::map_key_of(&flag.path).is_some() {
            Ok(Value::String(flag.value.clone()))
        } else if let Some(key) = schema::key(&flag.path).filter(|k| k.kind != Kind::Map) {
            parse_text(key.kind, &flag.value).map_err(|help| {
                SettingError::new(
                    &flag.path,
                    Some(&source),
                    format!("expected {}, found \"{}\"", expected(key.kind), flag.value),
                )
                .help(help)
            })
        } else {
            let all = schema::KEYS.iter().map(|k| k.path);
            let help = schema::did_you_mean(&flag.path, all).map_or_else(
                || "see `cargo ecs config --explain` for every setting".to_owned(),
                |s| format!("did you mean `{s}`?"),
            );
            Err(SettingError::new(&flag.path, Some(&source), "unknown setting").help(help))
        };
        match parsed {
            Ok(value) => layers.push(Layer { source, values: BTreeMap::from([(flag.path.clone(), value)]) }),
            Err(err) => errors.push(err),
        }
    }
    if errors.is_empty() { Ok(layers) } else { Err(errors) }
}

/// Checks a TOML/JSON value against a kind; on failure, says what to write instead.
fn check_kind(kind: Kind, value: &Value) -> Result<(), String> {
    let ok = match kind {
        Kind::Str => value.is_string(),
        Kind::Int => value.as_u64().is_some(),
        Kind::Bool => value.is_boolean(),
        Kind::Choice(choices) => value.as_str().is_some_and(|s| choices.contains(&s)),
        Kind::Cpu | Kind::Memory => value.as_u64().is_some() || value.is_string(),
        Kind::List => value.as_array().is_some_and(|items| items.iter().all(Value::is_string)),
        Kind::Map => value.is_object(),
    };
    if ok { Ok(()) } else { Err(hint(kind, value)) }
}

/// Parses the text of an environment variable or `--set` into a value of `kind`.
fn parse_text(kind: Kind, raw: &str) -> Result<Value, String> {
    let text = raw.trim();
    let value = match kind {
        Kind::Str | Kind::Map => Value::String(raw.to_owned()),
        Kind::Int => text.parse::<u64>().map(Value::from).map_err(|_| hint(kind, &Value::String(raw.to_owned())))?,
        Kind::Bool => match text.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Value::Bool(true),
            "false" | "0" | "no" => Value::Bool(false),
            _ => return Err(hint(kind, &Value::String(raw.to_owned()))),
        },
        Kind::Choice(_) => Value::String(text.to_owned()),
        Kind::Cpu | Kind::Memory => text.parse::<u64>().map_or_else(|_| Value::String(text.to_owned()), Value::from),
        Kind::List => Value::Array(
            text.split(',').map(str::trim).filter(|s| !s.is_empty()).map(|s| Value::String(s.to_owned())).collect(),
        ),
    };
    check_kind(kind, &value).map(|()| value)
}

fn expected(kind: Kind) -> String {
    match kind {
        Kind::Str => "a string".to_owned(),
        Kind::Int => "a whole number".to_owned(),
        Kind::Bool => "true or false".to_owned(),
        Kind::Choice(choices) => format!("one of {}", quoted(choices)),
        Kind::Cpu => "CPU units or vCPUs".to_owned(),
        Kind::Memory => "MiB or an amount with a unit".to_owned(),
        Kind::List => "a list of strings".to_owned(),
        Kind::Map => "a table".to_owned(),
    }
}

fn hint(kind: Kind, value: &Value) -> String {
    match kind {
        Kind::Choice(choices) => {
            let suggestion = value.as_str().and_then(|s| schema::did_you_mean(s, choices.iter().copied()));
            suggestion.map_or_else(|| format!("use one of {}", quoted(choices)), |s| format!("did you mean \"{s}\"?"))
        }
        Kind::Str => "write it in quotes, e.g. key = \"value\"".to_owned(),
        Kind::Int => "write a whole number without quotes, e.g. 8080".to_owned(),
        Kind::Bool => "write true or false without quotes".to_owned(),
        Kind::Cpu => "write units (512) or vCPUs (\"0.5 vCPU\")".to_owned(),
        Kind::Memory => "write MiB (1024) or an amount with a unit (\"1 GB\", \"512 MiB\")".to_owned(),
        Kind::List => "write a list, e.g. [\"a\", \"b\"] (comma-separated in variables and --set)".to_owned(),
        Kind::Map => "write a table of NAME = \"value\"".to_owned(),
    }
}

fn quoted(choices: &[&str]) -> String {
    choices.iter().map(|c| format!("\"{c}\"")).collect::<Vec<_>>().join(", ")
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_u64() || n.is_i64() => "an integer",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a table",
    }
}

fn describe(value: &Value) -> String {
    match value {
        Value::String(s) => format!("the string \"{s}\""),
        Value::Number(n) => format!("{} {n}", type_name(value)),
        Value::Bool(b) => format!("{b}"),
        other => type_name(other).to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use serde_json::json;

    use super::*;

    fn package() -> Source {
        Source::PackageMetadata { file: PathBuf::from("/w/app/Cargo.toml") }
    }

    fn overlay(name: &str) -> Source {
        Source::PackageEnvironment { name: name.to_owned(), file: PathBuf::from("/w/app/Cargo.toml") }
    }

    fn errors_of(result: Result<MetadataLayers, Vec<SettingError>>) -> Vec<String> {
        result.expect_err("expected errors").iter().map(ToString::to_string).collect()
    }

    #[test]
    fn metadata_is_flattened_with_tables_and_maps() {
        let table = json!({
            "memory": "1 GB", "port": 8080,
            "load-balancer": { "certificate": "*.example.com" },
            "env": { "RUST_LOG": "info", "WORKERS": 4 },
            "environments": { "prod": { "desired-count": 3, "env": { "RUST_LOG": "warn" } } }
        });
        let layers = from_metadata(&table, package(), overlay).expect("valid");
        assert_eq!(layers.base.values["memory"], json!("1 GB"));
        assert_eq!(layers.base.values["load-balancer.certificate"], json!("*.example.com"));
        assert_eq!(layers.base.values["env.WORKERS"], json!("4"));
        let prod = &layers.environments["prod"];
        assert_eq!(prod.source, overlay("prod"));
        assert_eq!(prod.values["desired-count"], json!(3));
        assert_eq!(prod.values["env.RUST_LOG"], json!("warn"));
    }

    #[test]
    fn unknown_keys_suggest_the_closest() {
        let errors = errors_of(from_metadata(&json!({ "memroy": 512 }), package(), overlay));
        assert_eq!(
            errors,
            vec![
                "`memroy` (package metadata in /w/app/Cargo.toml [package.metadata.ecs]): unknown setting\n  help: did you mean `memory`?"
            ]
        );
        let errors = errors_of(from_metadata(&json!({ "dns": { "zne": "a.com" } }), package(), overlay));
        assert!(errors[0].contains("`dns.zne`") && errors[0].contains("did you mean `zone`?"), "{errors:?}");
        let errors = errors_of(from_metadata(&json!({ "zzz": 1 }), package(), overlay));
        assert!(errors[0].contains("settings allowed here: bin, service"), "{errors:?}");
    }

    #[test]
    fn wrong_kinds_say_what_to_write() {
        let errors = errors_of(from_metadata(
            &json!({ "port": "80", "spot": "yes", "architecture": "arm", "subnets": "subnet-1", "image": "oci" }),
            package(),
            overlay,
        ));
        let all = errors.join("\n");
        assert!(all.contains("`port` (package metadata in /w/app/Cargo.toml [package.metadata.ecs]): expected a whole number, found the string \"80\"\n  help: write a whole number without quotes"), "{all}");
        assert!(all.contains("`spot`") && all.contains("write true or false"), "{all}");
        assert!(all.contains("`architecture`") && all.contains("did you mean \"arm64\"?"), "{all}");
        assert!(all.contains("`subnets`") && all.contains("write a list"), "{all}");
        assert!(all.contains("`image`") && all.contains("must be a table, found a string"), "{all}");
        assert_eq!(errors.len(), 5);
    }

    #[test]
    fn environment_overlays_are_checked_too() {
        let errors =
            errors_of(from_metadata(&json!({ "environments": { "prod": { "cpus": 1 } } }), package(), overlay));
        assert!(
            errors[0].starts_with(
                "`cpus` (package environment `prod` in /w/app/Cargo.toml [package.metadata.ecs.environments.prod])"
            ),
            "{errors:?}"
        );
        let errors = errors_of(from_metadata(&json!({ "environments": { "Prod": {} } }), package(), overlay));
        assert!(errors[0].contains("not a valid environment name"), "{errors:?}");
        let errors =
            errors_of(from_metadata(&json!({ "environments": { "a": { "environments": {} } } }), package(), overlay));
        assert!(errors[0].contains("cannot be nested"), "{errors:?}");
    }

    #[test]
    fn env_vars_map_to_keys_and_skip_tool_variables() {
        let vars = BTreeMap::from([
            ("CARGO_ECS_IMAGE_BUILDER".to_owned(), "docker".to_owned()),
            ("CARGO_ECS_LOAD_BALANCER_ENABLED".to_owned(), "false".to_owned()),
            ("CARGO_ECS_SUBNETS".to_owned(), "subnet-1, subnet-2".to_owned()),
            ("CARGO_ECS_REGISTRY_ENDPOINT".to_owned(), "http://127.0.0.1:5050".to_owned()),
            ("CARGO_ECS_STACK_DIR".to_owned(), "/x".to_owned()),
            ("CARGO_ECS_REGION".to_owned(), String::new()),
            ("PATH".to_owned(), "/bin".to_owned()),
        ]);
        let layers = from_env_vars(&vars).expect("valid");
        let value_of =
            |path: &str| layers.iter().find_map(|l| l.values.get(path).map(|v| (v.clone(), l.source.clone())));
        assert_eq!(
            value_of("image.builder"),
            Some((json!("docker"), Source::EnvVar { name: "CARGO_ECS_IMAGE_BUILDER".to_owned() }))
        );
        assert_eq!(value_of("load-balancer.enabled").map(|v| v.0), Some(json!(false)));
        assert_eq!(value_of("subnets").map(|v| v.0), Some(json!(["subnet-1", "subnet-2"])));
        assert_eq!(layers.len(), 3);
    }

    #[test]
    fn bad_env_vars_are_errors() {
        let vars = BTreeMap::from([
            ("CARGO_ECS_MEMROY".to_owned(), "512".to_owned()),
            ("CARGO_ECS_PORT".to_owned(), "eighty".to_owned()),
        ]);
        let errors: Vec<String> = from_env_vars(&vars).expect_err("invalid").iter().map(ToString::to_string).collect();
        assert_eq!(errors.len(), 2);
        assert!(
            errors[0].contains("CARGO_ECS_MEMROY") && errors[0].contains("did you mean CARGO_ECS_MEMORY?"),
            "{errors:?}"
        );
        assert!(
            errors[1]
                .contains("`port` (environment variable CARGO_ECS_PORT): expected a whole number, found \"eighty\""),
            "{errors:?}"
        );
    }

    #[test]
    fn flags_parse_and_check() {
        let flags = vec![
            FlagSetting::parse_set("cpu=1 vCPU").expect("ok"),
            FlagSetting::parse_set("env.RUST_LOG=debug").expect("ok"),
            FlagSetting { flag: "--region".to_owned(), path: "region".to_owned(), value: "eu-west-1".to_owned() },
        ];
        let layers = from_flags(&flags).expect("valid");
        assert_eq!(layers[0].values["cpu"], json!("1 vCPU"));
        assert_eq!(layers[1].values["env.RUST_LOG"], json!("debug"));
        assert_eq!(layers[2].source, Source::Flag { flag: "--region".to_owned() });
        assert!(FlagSetting::parse_set("novalue").is_err());
        let errors = from_flags(&[FlagSetting::parse_set("desired-cont=2").expect("ok")]).expect_err("unknown");
        assert!(errors[0].to_string().contains("did you mean `desired-count`?"), "{}", errors[0]);
    }
}
