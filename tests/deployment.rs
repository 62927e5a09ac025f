//! The deployment files (`Dockerfile`, `.dockerignore`, `deploy/jobs/*.yaml`, `deploy/README.md`)
//! checked against the workspace they deploy, since no Docker engine or `gcloud` runs here.
//!
//! What is checked, and where the truth comes from:
//! - processor binaries: the workspace `Cargo.toml` members whose `src/main.rs` calls
//!   `framework::cli::main`, named by their own `[package]` (plain text parsing, no TOML crate);
//! - environment variables: the fields of `RawEnvironment` in `framework/src/config.rs`,
//!   upper-cased as envy reads them (`RUST_LOG` among them, checked there and handed to the
//!   tracing filter), plus the one variable a library reads (`GOOGLE_APPLICATION_CREDENTIALS`,
//!   through the BigQuery client); the values a job sets must also pass `Settings::from_map`;
//! - the rpath: `.cargo/config.toml` must contain `$ORIGIN/../lib`, and the image must put
//!   `libduckdb.so` in the `lib` folder beside the binary's `bin` folder;
//! - YAML: the job files are read by [`yaml`], a parser of the block subset they use (see there),
//!   so a tab, a bad indentation, a duplicate key or an unclosed quote fails the test.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use framework::config::Settings;

use self::yaml::Yaml;

/// The variables read by libraries rather than by `config.rs`.
const LIBRARY_VARIABLES: [&str; 1] = ["GOOGLE_APPLICATION_CREDENTIALS"];

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(relative: &str) -> String {
    let path = workspace_root().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
}

/// The first `"…"` string of `line`.
fn quoted(line: &str) -> Option<&str> {
    let start = line.find('"')? + 1;
    let length = line[start..].find('"')?;
    Some(&line[start..start + length])
}

/// The member folders of the workspace `Cargo.toml`, one quoted name per line of `members`.
fn workspace_members() -> Vec<String> {
    let manifest = read("Cargo.toml");
    let members_start = manifest.find("members = [").expect("the workspace lists its members");
    let members_end =
        manifest[members_start..].find(']').expect("the members list is closed") + members_start;
    manifest[members_start + "members = [".len()..members_end]
        .split(',')
        .filter_map(|entry| quoted(entry.trim()).map(str::to_owned))
        .collect()
}

/// The `name` of a manifest's `[package]` section.
fn package_name(manifest: &str) -> Option<String> {
    let package =
        manifest.split("\n[").find(|section| section.trim_start_matches('[').starts_with("package]"))?;
    package.lines().find(|line| line.trim_start().starts_with("name")).and_then(quoted).map(str::to_owned)
}

/// Processor binary name → its crate folder: members whose `src/main.rs` calls the framework's main.
fn processor_binaries() -> BTreeMap<String, String> {
    let mut binaries = BTreeMap::new();
    for member in workspace_members() {
        let main = workspace_root().join(&member).join("src/main.rs");
        let calls_framework =
            std::fs::read_to_string(main).is_ok_and(|text| text.contains("framework::cli::main"));
        if calls_framework {
            let name =
                package_name(&read(&format!("{member}/Cargo.toml"))).expect("a member names its package");
            binaries.insert(name, member);
        }
    }
    binaries
}

/// The worker variable a processor declares (`workers_variable: "PCF_WORKERS"` in its `lib.rs`).
fn workers_variable_of(crate_folder: &str) -> String {
    let library = read(&format!("{crate_folder}/src/lib.rs"));
    let line = library
        .lines()
        .find(|line| line.contains("workers_variable:"))
        .expect("the processor names its workers variable");
    quoted(line).expect("the workers variable is a string literal").to_owned()
}

/// Every variable the binaries read: `RawEnvironment`'s fields upper-cased, and the library ones.
fn variables_read_by_code() -> BTreeSet<String> {
    let config = read("framework/src/config.rs");
    let start = config.find("struct RawEnvironment {").expect("config.rs declares RawEnvironment");
    let body = &config[start..];
    let body =
        &body[body.find('{').expect("a struct body") + 1..body.find('}').expect("a closed struct body")];
    let mut variables: BTreeSet<String> = body
        .lines()
        .filter_map(|line| line.trim().split_once(':'))
        .map(|(field, _)| field.trim().trim_start_matches("pub ").to_ascii_uppercase())
        .collect();
    assert!(variables.contains("WAREHOUSE"), "the scan of RawEnvironment found {variables:?}");
    variables.extend(LIBRARY_VARIABLES.map(str::to_owned));
    variables
}

#[test]
fn the_scans_find_the_three_processors_and_their_variables() {
    let binaries = processor_binaries();
    assert_eq!(
        binaries.keys().map(String::as_str).collect::<Vec<_>>(),
        ["ml_feature_store", "player_composite_factors", "player_game_summary"]
    );
    let variables = variables_read_by_code();
    for (_, folder) in binaries {
        assert!(variables.contains(&workers_variable_of(&folder)));
    }
    assert!(
        variables.contains("CLOUD_RUN_TASK_INDEX") && variables.contains("ENABLE_PLAYER_PARALLELIZATION")
    );
}

/// The Dockerfile's instructions: comments dropped, `\` continuations joined, keyword upper-cased.
fn dockerfile_instructions() -> Vec<(String, String)> {
    let mut instructions = Vec::new();
    let mut pending = String::new();
    for line in read("Dockerfile").lines() {
        let trimmed = line.trim();
        if pending.is_empty() && (trimmed.is_empty() || trimmed.starts_with('#')) {
            continue;
        }
        match trimmed.strip_suffix('\\') {
            Some(continued) => pending.push_str(&format!("{continued} ")),
            None => {
                pending.push_str(trimmed);
                let (keyword, arguments) = pending.split_once(char::is_whitespace).unwrap_or((&pending, ""));
                instructions.push((keyword.to_ascii_uppercase(), arguments.trim().to_owned()));
                pending.clear();
            }
        }
    }
    assert!(pending.is_empty(), "the Dockerfile ends inside a continued line");
    instructions
}

/// A build stage: its `FROM` image, its name and its instructions.
struct Stage {
    image: String,
    name: String,
    instructions: Vec<(String, String)>,
}

fn dockerfile_stages() -> Vec<Stage> {
    let mut stages: Vec<Stage> = Vec::new();
    for (keyword, arguments) in dockerfile_instructions() {
        if keyword == "FROM" {
            let words: Vec<&str> = arguments.split_whitespace().collect();
            let name = match words.as_slice() {
                [_, alias, name] if alias.eq_ignore_ascii_case("as") => (*name).to_owned(),
                _ => panic!("every stage is named (FROM image AS name): {arguments}"),
            };
            stages.push(Stage { image: words[0].to_owned(), name, instructions: Vec::new() });
        } else if let Some(stage) = stages.last_mut() {
            stage.instructions.push((keyword, arguments));
        }
    }
    stages
}

impl Stage {
    fn arguments_of<'a>(&'a self, keyword: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.instructions
            .iter()
            .filter(move |(each, _)| each == keyword)
            .map(|(_, arguments)| arguments.as_str())
    }

    /// `COPY --from=<stage> source destination` instructions as (source, destination).
    fn copies_from(&self, stage: &str) -> Vec<(String, String)> {
        self.arguments_of("COPY")
            .filter_map(|arguments| arguments.strip_prefix(&format!("--from={stage} ")))
            .filter_map(|rest| {
                rest.split_once(' ')
                    .map(|(source, destination)| (source.to_owned(), destination.trim().to_owned()))
            })
            .collect()
    }
}

#[test]
fn dockerfile_builds_one_processor_in_a_rust_builder_and_runs_it_from_a_slim_runtime() {
    let stages = dockerfile_stages();
    let [builder, runtime] = stages.as_slice() else { panic!("two stages expected, found {}", stages.len()) };
    assert!(
        builder.image.starts_with("rust:") && builder.image.ends_with("-bookworm"),
        "builder {}",
        builder.image
    );
    assert_eq!(runtime.image, "debian:bookworm-slim");
    let build = builder
        .arguments_of("RUN")
        .find(|run| run.contains("cargo build"))
        .expect("the builder runs cargo build");
    assert!(
        build.contains("--release") && build.contains("--locked") && build.contains("-p \"${PROCESSOR}\""),
        "{build}"
    );
    assert!(
        builder.arguments_of("RUN").any(|run| run.contains("npm")),
        "the builder installs npm for build.rs"
    );
    assert!(runtime.arguments_of("RUN").any(|run| run.contains("ca-certificates")));
    let default_processor = dockerfile_instructions()
        .into_iter()
        .find_map(|(keyword, arguments)| {
            (keyword == "ARG").then(|| arguments.strip_prefix("PROCESSOR=").map(str::to_owned)).flatten()
        })
        .expect("a default PROCESSOR build argument");
    assert!(
        processor_binaries().contains_key(&default_processor),
        "PROCESSOR={default_processor} is no processor"
    );
    for stage in [builder, runtime] {
        assert!(
            stage.arguments_of("ARG").any(|arguments| arguments == "PROCESSOR"),
            "{} declares ARG PROCESSOR",
            stage.name
        );
    }
}

/// The image's binary reports the commit it was built from: the builder stage takes the
/// `BUILD_COMMIT` argument (which its `RUN`s see as a variable) that the framework reads at
/// compile time, and the guide's build commands pass it.
#[test]
fn dockerfile_passes_the_build_commit_to_the_compiler() {
    let stages = dockerfile_stages();
    let builder = stages.first().expect("a builder stage");
    assert!(builder.arguments_of("ARG").any(|arguments| arguments == "BUILD_COMMIT"), "ARG BUILD_COMMIT");
    assert!(read("framework/src/processor.rs").contains("option_env!(\"BUILD_COMMIT\")"));
    let guide = read("deploy/README.md");
    let builds: Vec<&str> = guide.split("docker build ").skip(1).collect();
    assert_eq!(builds.len(), 3, "one build command per processor");
    for build in builds {
        assert!(
            build.starts_with("--build-arg PROCESSOR=") && build.contains("--build-arg BUILD_COMMIT="),
            "{build}"
        );
    }
}

#[test]
fn dockerfile_runs_as_a_non_root_user() {
    let stages = dockerfile_stages();
    let runtime = stages.last().expect("a runtime stage");
    let user = runtime.arguments_of("USER").last().expect("the runtime stage sets USER");
    let name = user.split(':').next().unwrap_or_default();
    assert!(!["root", "0", ""].contains(&name), "USER {user} is root");
    let created = runtime.arguments_of("RUN").any(|run| run.contains("useradd") && run.contains(name));
    assert!(
        created || name.chars().all(|character| character.is_ascii_digit()),
        "USER {name} is never created"
    );
}

#[test]
fn dockerfile_puts_libduckdb_where_the_binary_rpath_looks() {
    let rustflags = read(".cargo/config.toml");
    assert!(
        rustflags.contains("$ORIGIN/../lib"),
        ".cargo/config.toml no longer links with the $ORIGIN/../lib rpath"
    );
    let stages = dockerfile_stages();
    let runtime = stages.last().expect("a runtime stage");
    let copies = runtime.copies_from("builder");
    let (_, binary) = copies
        .iter()
        .find(|(source, _)| source.ends_with("${PROCESSOR}"))
        .expect("the runtime copies the processor binary from the builder");
    let (_, library) = copies
        .iter()
        .find(|(source, _)| source.ends_with("libduckdb.so"))
        .expect("the runtime copies libduckdb.so from the builder");
    let binary_folder = Path::new(binary).parent().expect("the binary lies in a folder");
    let library_folder = if library.ends_with('/') {
        Path::new(library)
    } else {
        Path::new(library).parent().expect("a folder")
    };
    assert_eq!(binary_folder.parent().map(|root| root.join("lib")), Some(library_folder.to_path_buf()));
    assert_eq!(binary, "/app/bin/${PROCESSOR}");
    let entrypoint = runtime.arguments_of("ENTRYPOINT").last().expect("an ENTRYPOINT");
    let program = entrypoint.trim_start_matches("[\"").split('"').next().unwrap_or_default();
    assert!(
        entrypoint.starts_with('[') && Path::new(program).parent() == Some(binary_folder),
        "ENTRYPOINT {entrypoint}"
    );
    let linked = program == binary
        || runtime.arguments_of("RUN").any(|run| run.contains(&format!("ln -s \"{binary}\" {program}")));
    assert!(linked, "ENTRYPOINT {program} is neither the binary nor a link to it");
}

#[test]
fn dockerignore_keeps_build_output_out_and_build_configuration_in() {
    let ignored: Vec<String> = read(".dockerignore")
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| line.trim_end_matches('/').to_owned())
        .collect();
    for pattern in ["target", ".git"] {
        assert!(ignored.iter().any(|each| each == pattern), ".dockerignore misses {pattern}");
    }
    for needed in [".cargo", "Cargo.lock", "Cargo.toml", "framework", "*.rs", "*.toml"] {
        assert!(!ignored.iter().any(|each| each == needed), ".dockerignore must not drop {needed}");
    }
}

/// Variable names set by `ENV` in the Dockerfile and by `-e`, `--set-env-vars` and
/// `--update-env-vars` in the Dockerfile and the deployment guide.
fn variables_set_by_files() -> Vec<(String, String)> {
    let mut found = Vec::new();
    for (keyword, arguments) in dockerfile_instructions() {
        if keyword == "ENV" {
            let first = arguments.split_whitespace().next().unwrap_or_default();
            if first.contains('=') {
                let names = arguments
                    .split_whitespace()
                    .filter_map(|pair| pair.split_once('='))
                    .map(|(name, _)| name);
                found.extend(names.map(|name| ("Dockerfile ENV".to_owned(), name.to_owned())));
            } else {
                found.push(("Dockerfile ENV".to_owned(), first.to_owned()));
            }
        }
    }
    for file in ["Dockerfile", "deploy/README.md"] {
        let words: Vec<String> = read(file).split_whitespace().map(str::to_owned).collect();
        for (index, word) in words.iter().enumerate() {
            let assignments = if word == "-e" || word == "--env" {
                words.get(index + 1).cloned().unwrap_or_default()
            } else if let Some((flag, list)) = word.split_once('=') {
                if flag == "--set-env-vars" || flag == "--update-env-vars" {
                    list.to_owned()
                } else {
                    continue;
                }
            } else {
                continue;
            };
            for assignment in
                assignments.trim_matches(|character| character == '"' || character == '\'').split(',')
            {
                let name = assignment.split('=').next().unwrap_or_default();
                found.push((file.to_owned(), name.to_owned()));
            }
        }
    }
    found
}

#[test]
fn dockerfile_and_guide_set_only_variables_the_code_reads() {
    let read_by_code = variables_read_by_code();
    let set = variables_set_by_files();
    assert!(
        set.iter().any(|(_, name)| name == "ENABLE_PLAYER_PARALLELIZATION"),
        "the guide shows the serial rollback"
    );
    for (file, name) in set {
        assert!(
            read_by_code.contains(&name),
            "{file} sets {name}, which no code reads (read: {read_by_code:?})"
        );
    }
}

/// Every `deploy/jobs/*.yaml` file by name, parsed.
fn job_files() -> Vec<(String, Yaml)> {
    let folder = workspace_root().join("deploy/jobs");
    let mut files: Vec<(String, Yaml)> = std::fs::read_dir(&folder)
        .expect("deploy/jobs exists")
        .map(|entry| entry.expect("a readable folder entry").path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "yaml" || extension == "yml"))
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("a readable job file");
            let document = yaml::parse(&text).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
            (path.file_stem().expect("a file name").to_string_lossy().into_owned(), document)
        })
        .collect();
    files.sort_by(|left, right| left.0.cmp(&right.0));
    files
}

/// The one container of a job's task template.
fn container(job: &Yaml) -> &Yaml {
    let containers = job.path(&["spec", "template", "spec", "template", "spec", "containers"]);
    let items = containers.items();
    assert_eq!(items.len(), 1, "one container per job");
    &items[0]
}

/// The processor an image runs: the last path segment of the image name, before its tag or digest.
fn image_processor(image: &str) -> &str {
    let name = image.rsplit('/').next().unwrap_or_default();
    name.split(['@', ':']).next().unwrap_or_default()
}

fn environment_of(job: &Yaml) -> Vec<(String, String)> {
    container(job)
        .get("env")
        .map(|env| {
            env.items()
                .iter()
                .map(|item| (item.path(&["name"]).text().to_owned(), item.path(&["value"]).text().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn every_processor_has_a_daily_and_a_backfill_job() {
    let names: BTreeSet<String> = job_files().into_iter().map(|(name, _)| name).collect();
    for processor in processor_binaries().keys() {
        for mode in ["daily", "backfill"] {
            let name = format!("{}-{mode}", processor.replace('_', "-"));
            assert!(names.contains(&name), "deploy/jobs/{name}.yaml is missing");
        }
    }
}

#[test]
fn job_files_are_cloud_run_jobs_of_workspace_processors() {
    let binaries = processor_binaries();
    for (file, job) in job_files() {
        assert_eq!(job.path(&["apiVersion"]).text(), "run.googleapis.com/v1", "{file}");
        assert_eq!(job.path(&["kind"]).text(), "Job", "{file}");
        assert_eq!(job.path(&["metadata", "name"]).text(), file, "{file}: metadata.name is the file name");
        let valid_name = file.len() <= 63
            && file.chars().all(|character| {
                character.is_ascii_lowercase() || character.is_ascii_digit() || character == '-'
            });
        assert!(valid_name, "{file}: a Cloud Run job name is lowercase letters, digits and hyphens");
        assert!(
            !job.path(&["metadata", "labels", "cloud.googleapis.com/location"]).text().is_empty(),
            "{file}"
        );
        let image = container(&job).path(&["image"]).text();
        let processor = image_processor(image);
        assert!(
            binaries.contains_key(processor),
            "{file}: image {image} runs no processor binary of the workspace"
        );
        assert_eq!(job.path(&["metadata", "labels", "processor"]).text(), processor, "{file}");
        let task = job.path(&["spec", "template", "spec", "template", "spec"]);
        assert!(task.path(&["serviceAccountName"]).text().ends_with(".iam.gserviceaccount.com"), "{file}");
        assert!(task.path(&["maxRetries"]).text().parse::<u32>().is_ok(), "{file}: maxRetries");
        assert!(
            task.path(&["timeoutSeconds"]).text().parse::<u32>().is_ok_and(|seconds| seconds > 0),
            "{file}: timeoutSeconds"
        );
        let limits = container(&job).path(&["resources", "limits"]);
        assert!(
            !limits.path(&["cpu"]).text().is_empty() && !limits.path(&["memory"]).text().is_empty(),
            "{file}: limits"
        );
    }
}

#[test]
fn job_environments_are_variables_the_code_reads_with_valid_values() {
    let read_by_code = variables_read_by_code();
    let binaries = processor_binaries();
    for (file, job) in job_files() {
        let environment = environment_of(&job);
        for (name, _) in &environment {
            assert!(
                read_by_code.contains(name),
                "{file}: env {name} is read by no code (read: {read_by_code:?})"
            );
        }
        let settings =
            Settings::from_map(environment.clone()).unwrap_or_else(|error| panic!("{file}: {error}"));
        assert!(
            matches!(settings.warehouse, framework::config::WarehouseUrl::BigQuery { .. }),
            "{file}: WAREHOUSE"
        );
        assert!(settings.parallel, "{file}: jobs deploy the parallel path; false is the rollback");
        let processor = image_processor(container(&job).path(&["image"]).text()).to_owned();
        let workers_variable = workers_variable_of(&binaries[&processor]);
        assert!(
            environment.iter().any(|(name, _)| *name == workers_variable),
            "{file}: sets no {workers_variable}"
        );
        let other_workers = environment.iter().find(|(name, _)| {
            name.ends_with("_WORKERS") && *name != workers_variable && name != "PARALLELIZATION_WORKERS"
        });
        assert_eq!(other_workers, None, "{file}: the worker variable of another processor");
        for reserved in [
            "CLOUD_RUN_TASK_INDEX",
            "CLOUD_RUN_TASK_COUNT",
            "CLOUD_RUN_JOB",
            "CLOUD_RUN_EXECUTION",
            "K_SERVICE",
            "K_REVISION",
        ] {
            assert!(
                environment.iter().all(|(name, _)| name != reserved),
                "{file}: {reserved} is set by Cloud Run"
            );
        }
    }
}

#[test]
fn backfill_jobs_shard_a_date_range_across_tasks_and_daily_jobs_run_one_task() {
    for (file, job) in job_files() {
        let task_count: u32 =
            job.path(&["spec", "template", "spec", "taskCount"]).text().parse().expect("taskCount");
        let arguments: Vec<&str> = container(&job)
            .get("args")
            .map(|args| args.items().iter().map(Yaml::text).collect())
            .unwrap_or_default();
        let after = |flag: &str| {
            arguments.iter().position(|each| *each == flag).and_then(|index| arguments.get(index + 1))
        };
        if file.ends_with("-backfill") {
            assert!(task_count > 1, "{file}: a backfill shards its dates over several tasks");
            assert!(arguments.contains(&"--backfill"), "{file}: --backfill");
            let start: NaiveDate =
                after("--start-date").expect("--start-date").parse().expect("a start date");
            let end: NaiveDate = after("--end-date").expect("--end-date").parse().expect("an end date");
            assert!(start <= end, "{file}: {start} after {end}");
        } else {
            assert!(file.ends_with("-daily"), "{file}: a job is -daily or -backfill");
            assert_eq!(task_count, 1, "{file}");
            assert!(!arguments.contains(&"--backfill"), "{file}: a daily run is live, not a backfill");
        }
    }
}

#[test]
fn guide_names_only_job_files_that_exist() {
    let guide = read("deploy/README.md");
    let existing: BTreeSet<String> = job_files().into_iter().map(|(name, _)| name).collect();
    for mention in guide.split("deploy/jobs/").skip(1) {
        let name: String = mention
            .chars()
            .take_while(|character| character.is_ascii_alphanumeric() || *character == '-')
            .collect();
        if name.is_empty() || mention[name.len()..].starts_with('*') || mention[name.len()..].starts_with('$')
        {
            continue;
        }
        assert!(
            existing.contains(&name),
            "deploy/README.md names deploy/jobs/{name}.yaml, which does not exist"
        );
    }
    for processor in processor_binaries().keys() {
        assert!(guide.contains(&format!("PROCESSOR={processor}")), "the guide builds {processor}");
    }
}

#[test]
fn yaml_subset_parser_accepts_the_job_shapes_and_rejects_what_it_does_not_understand() {
    let document =
        yaml::parse("a:\n  b: 'x # y'\n  c:\n    - name: N\n      value: \"v\"\n    - plain # note\n")
            .unwrap();
    assert_eq!(document.path(&["a", "b"]).text(), "x # y");
    assert_eq!(document.path(&["a", "c"]).items()[0].path(&["value"]).text(), "v");
    assert_eq!(document.path(&["a", "c"]).items()[1].text(), "plain");
    for broken in
        ["a:\n\tb: c\n", "a: b\na: c\n", "a:\n  b: c\n   d: e\n", "a: 'open\n", "a: [1, 2]\n", "a: |\n  x\n"]
    {
        assert!(yaml::parse(broken).is_err(), "accepted {broken:?}");
    }
}

/// A parser of the YAML block subset the job files use, so a broken file fails here and not at
/// `gcloud run jobs replace` time.
///
/// Supported: `#` comments (whole lines, or after a space), block mappings `key: value` and
/// `key:` followed by a more indented block, block sequences `- item` (an item may open a mapping
/// on its own line, `- name: X`), plain, `'single'` and `"double"` quoted scalars on one line.
/// Rejected as outside the subset, with the line number: tabs in indentation, flow collections
/// (`[…]`, `{…}`), block scalars (`|`, `>`), anchors, aliases, tags, directives and `---`, duplicate
/// keys, inconsistent indentation, unclosed quotes. Everything in the subset means the same as in
/// YAML 1.2, so a file accepted here is valid YAML with the same tree.
mod yaml {
    /// A node: scalars keep their text (quotes removed), mappings keep their order.
    #[derive(Debug, PartialEq)]
    pub enum Yaml {
        Scalar(String),
        Sequence(Vec<Yaml>),
        Mapping(Vec<(String, Yaml)>),
    }

    impl Yaml {
        pub fn get(&self, key: &str) -> Option<&Yaml> {
            match self {
                Yaml::Mapping(entries) => {
                    entries.iter().find(|(each, _)| each == key).map(|(_, value)| value)
                }
                _ => None,
            }
        }

        /// The node at `keys`; panics naming the missing key, as the tests want.
        pub fn path(&self, keys: &[&str]) -> &Yaml {
            keys.iter()
                .fold(self, |node, key| node.get(key).unwrap_or_else(|| panic!("no key {key:?} in {keys:?}")))
        }

        pub fn text(&self) -> &str {
            match self {
                Yaml::Scalar(text) => text,
                other => panic!("a scalar expected, found {other:?}"),
            }
        }

        pub fn items(&self) -> &[Yaml] {
            match self {
                Yaml::Sequence(items) => items,
                other => panic!("a sequence expected, found {other:?}"),
            }
        }
    }

    /// One meaningful line: its number (from 1), its indentation and its content.
    struct Line {
        number: usize,
        indent: usize,
        content: String,
    }

    /// Parses one document of the subset.
    pub fn parse(text: &str) -> Result<Yaml, String> {
        let mut lines = Vec::new();
        for (index, raw) in text.lines().enumerate() {
            let number = index + 1;
            let content = raw.trim_start_matches(' ');
            if content.starts_with('\t') {
                return Err(format!("line {number}: tab in indentation"));
            }
            let content = strip_comment(content).trim_end();
            if content.is_empty() {
                continue;
            }
            if content.starts_with("---") || content.starts_with('%') {
                return Err(format!("line {number}: directives and document markers are outside the subset"));
            }
            lines.push(Line {
                number,
                indent: raw.len() - raw.trim_start_matches(' ').len(),
                content: content.to_owned(),
            });
        }
        let mut position = 0;
        let Some(first) = lines.first() else { return Ok(Yaml::Mapping(Vec::new())) };
        let indent = first.indent;
        let document = parse_block(&mut lines, &mut position, indent)?;
        match lines.get(position) {
            Some(line) => Err(format!("line {}: unexpected indentation", line.number)),
            None => Ok(document),
        }
    }

    /// Drops a `#` comment that starts the content or follows a space outside quotes.
    fn strip_comment(content: &str) -> &str {
        let mut quote = None;
        let mut previous = ' ';
        for (index, character) in content.char_indices() {
            match (quote, character) {
                (None, '#') if previous == ' ' => return &content[..index],
                (None, '\'' | '"') if previous == ' ' || previous == '-' || index == 0 => {
                    quote = Some(character)
                }
                (Some(open), _) if character == open => quote = None,
                _ => {}
            }
            previous = character;
        }
        content
    }

    fn is_item(content: &str) -> bool {
        content == "-" || content.starts_with("- ")
    }

    fn parse_block(lines: &mut [Line], position: &mut usize, indent: usize) -> Result<Yaml, String> {
        if is_item(&lines[*position].content) {
            parse_sequence(lines, position, indent)
        } else {
            parse_mapping(lines, position, indent)
        }
    }

    fn parse_sequence(lines: &mut [Line], position: &mut usize, indent: usize) -> Result<Yaml, String> {
        let mut items = Vec::new();
        while *position < lines.len()
            && lines[*position].indent == indent
            && is_item(&lines[*position].content)
        {
            let line = &mut lines[*position];
            let rest = line.content[1..].trim_start().to_owned();
            if rest.is_empty() {
                *position += 1;
                items.push(parse_nested(lines, position, indent, line_number(lines, *position - 1))?);
            } else if split_key(&rest).is_some() {
                // `- key: value` opens a mapping whose keys align with `key`.
                let offset = line.content.len() - rest.len();
                line.indent += offset;
                line.content = rest;
                let mapping_indent = line.indent;
                items.push(parse_mapping(lines, position, mapping_indent)?);
            } else {
                items.push(parse_scalar(&rest, line.number)?);
                *position += 1;
            }
        }
        Ok(Yaml::Sequence(items))
    }

    fn line_number(lines: &[Line], index: usize) -> usize {
        lines[index].number
    }

    /// The block after a `key:` or `-` line: more indented, or a sequence at the key's indent.
    fn parse_nested(
        lines: &mut [Line],
        position: &mut usize,
        indent: usize,
        number: usize,
    ) -> Result<Yaml, String> {
        match lines.get(*position) {
            Some(next) if next.indent > indent => {
                let nested_indent = next.indent;
                parse_block(lines, position, nested_indent)
            }
            _ => Err(format!("line {number}: empty values are outside the subset")),
        }
    }

    fn parse_mapping(lines: &mut [Line], position: &mut usize, indent: usize) -> Result<Yaml, String> {
        let mut entries: Vec<(String, Yaml)> = Vec::new();
        while *position < lines.len()
            && lines[*position].indent == indent
            && !is_item(&lines[*position].content)
        {
            let number = lines[*position].number;
            let (key, value) =
                split_key(&lines[*position].content).ok_or(format!("line {number}: expected key: value"))?;
            if entries.iter().any(|(each, _)| *each == key) {
                return Err(format!("line {number}: duplicate key {key:?}"));
            }
            *position += 1;
            let node = if value.is_empty() {
                parse_nested(lines, position, indent, number)?
            } else {
                parse_scalar(&value, number)?
            };
            if let Some(next) = lines.get(*position).filter(|next| next.indent > indent) {
                return Err(format!("line {}: unexpected indentation", next.number));
            }
            entries.push((key, node));
        }
        Ok(Yaml::Mapping(entries))
    }

    /// `key: value` or `key:` with a plain key; `None` when the content is no mapping entry.
    fn split_key(content: &str) -> Option<(String, String)> {
        if content.starts_with(['\'', '"']) {
            return None;
        }
        let (key, value) = match content.split_once(": ") {
            Some((key, value)) => (key, value.trim()),
            None => (content.strip_suffix(':')?, ""),
        };
        let plain =
            !key.is_empty() && !key.contains(' ') && !key.starts_with(['-', '[', '{', '&', '*', '!', '?']);
        plain.then(|| (key.to_owned(), value.to_owned()))
    }

    fn parse_scalar(text: &str, number: usize) -> Result<Yaml, String> {
        if let Some(inner) = text.strip_prefix('\'') {
            let inner = inner.strip_suffix('\'').ok_or(format!("line {number}: unclosed quote"))?;
            if inner.replace("''", "").contains('\'') {
                return Err(format!("line {number}: stray quote"));
            }
            return Ok(Yaml::Scalar(inner.replace("''", "'")));
        }
        if let Some(inner) = text.strip_prefix('"') {
            let inner = inner.strip_suffix('"').ok_or(format!("line {number}: unclosed quote"))?;
            if inner.contains(['"', '\\']) {
                return Err(format!("line {number}: escapes in double quotes are outside the subset"));
            }
            return Ok(Yaml::Scalar(inner.to_owned()));
        }
        if text.starts_with(['[', '{', '|', '>', '&', '*', '!', '@', '`', '%']) || text.contains(": ") {
            return Err(format!("line {number}: {text:?} is outside the subset"));
        }
        Ok(Yaml::Scalar(text.to_owned()))
    }
}
