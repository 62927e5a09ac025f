//! A write script the client loses track of after submitting it is settled from its job's final
//! state, not reported as failed: BigQuery may still commit it. One whose answer is cut off is
//! sent again under its request id.
//!
//! The emulator finishes every job before it answers, so a relay in front of it plays the lost
//! answer: it tells the client that a write script has not finished yet, and answers every poll
//! of that job's results with HTTP 503 until the client gives up on polling; or it closes the
//! connection instead of answering.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value as Json;
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::{TcpListener, TcpStream};

use super::{Backend, PROJECT, TWO_DATES, emulator_host, feature_row, load_inputs, run_toy};
use crate::util::{date, export};
use framework::runner::DateStatus;
use framework::schema::analytics::TEAM_OFFENSE_GAME_SUMMARY;
use framework::schema::predictions::ML_FEATURE_STORE_V2;
use framework::warehouse::bigquery::{BigQueryWarehouse, RequestPolicy};
use framework::warehouse::{ReplaceScope, TableWrite};
use framework::{Query, Value, Warehouse, WarehouseError};

/// What the relay keeps from the client about a write script's job.
#[derive(Clone, Copy, PartialEq)]
enum Loss {
    /// Its results until the client asks to cancel it: a passing outage.
    ResultsUntilCancelled,
    /// Its results: the client cannot follow it to its end, and not read what it returned.
    Results,
    /// Its results and its state (`jobs.get`): nothing tells the client how it ended.
    ResultsAndState,
    /// The answers to the first so many scripts submitted: the relay passes each on to the
    /// emulator, which runs it, and closes the client's connection instead of answering.
    Answers(usize),
}

/// An HTTP/1.1 relay to the emulator that loses write scripts' answers (see [`Loss`]); every
/// other request passes through unchanged.
struct LosingRelay {
    address: String,
    jobs: Arc<Mutex<LostJobs>>,
}

/// The jobs whose answers the relay lost, of those the ones it still withholds, and how many
/// scripts' answers it dropped.
#[derive(Default)]
struct LostJobs {
    lost: HashSet<String>,
    withheld: HashSet<String>,
    answers_dropped: usize,
}

impl LosingRelay {
    async fn start(target: &str, loss: Loss) -> LosingRelay {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free local port");
        let address = listener.local_addr().expect("a bound port").to_string();
        let jobs = Arc::new(Mutex::new(LostJobs::default()));
        let (relayed, target) = (Arc::clone(&jobs), target.to_owned());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(relay_connection(client, target.clone(), Arc::clone(&relayed), loss));
            }
        });
        LosingRelay { address, jobs }
    }

    fn lost_jobs(&self) -> Vec<String> {
        self.jobs.lock().unwrap().lost.iter().cloned().collect()
    }

    /// A warehouse on the relay that gives up on a request after two attempts a few
    /// milliseconds apart.
    async fn warehouse(&self, dataset_prefix: &str) -> BigQueryWarehouse {
        let policy = RequestPolicy {
            max_attempts: 2,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(5),
            ..RequestPolicy::default()
        };
        BigQueryWarehouse::connect(PROJECT, dataset_prefix, Some(&self.address))
            .await
            .expect("the relay's warehouse connects")
            .with_policy(policy)
    }
}

/// An HTTP message: its start line and headers, and its body.
struct Message {
    head: String,
    body: Vec<u8>,
}

/// Reads one message with a `content-length` body (none without the header); `None` at the end
/// of the stream.
async fn read_message(stream: &mut BufReader<impl tokio::io::AsyncRead + Unpin>) -> Option<Message> {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if stream.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        let end_of_head = line == "\r\n";
        head.push_str(&line);
        if end_of_head {
            break;
        }
    }
    let length = head
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .map_or(0, |(_, value)| value.trim().parse().expect("a numeric content-length"));
    let mut body = vec![0; length];
    stream.read_exact(&mut body).await.ok()?;
    Some(Message { head, body })
}

fn json_response(status: &str, body: &Json) -> Vec<u8> {
    let body = body.to_string();
    let head = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    [head.into_bytes(), body.into_bytes()].concat()
}

/// The job a request's path names after `/queries/` (its results) or `/jobs/` (its state).
fn job_in_path<'a>(path: &'a str, segment: &str) -> Option<&'a str> {
    let rest = path.split_once(segment)?.1;
    Some(rest.split(['?', '/']).next().unwrap_or(rest))
}

async fn relay_connection(client: TcpStream, target: String, jobs: Arc<Mutex<LostJobs>>, loss: Loss) {
    let (client_reader, mut client_writer) = client.into_split();
    let mut client_reader = BufReader::new(client_reader);
    while let Some(request) = read_message(&mut client_reader).await {
        let start_line = request.head.lines().next().unwrap_or_default().to_owned();
        let mut words = start_line.split(' ');
        let (method, path) = (words.next().unwrap_or_default(), words.next().unwrap_or_default());
        let job = job_in_path(path, "/jobs/");
        if method == "POST" && path.ends_with("/cancel") && loss == Loss::ResultsUntilCancelled {
            jobs.lock().unwrap().withheld.remove(job.unwrap_or_default());
        }
        let is_withheld =
            |job: Option<&str>| job.is_some_and(|job| jobs.lock().unwrap().withheld.contains(job));
        let withheld = method == "GET"
            && (is_withheld(job_in_path(path, "/queries/"))
                || (loss == Loss::ResultsAndState && is_withheld(job)));
        let response = if withheld {
            let error = serde_json::json!({"error": {
                "code": 503,
                "message": "the relay lost the answer",
                "errors": [{"reason": "backendError", "message": "the relay lost the answer"}],
            }});
            json_response("503 Service Unavailable", &error)
        } else {
            let answer = forward(&target, &request).await;
            let is_script = method == "POST"
                && path.ends_with("/queries")
                && String::from_utf8_lossy(&request.body).contains("BEGIN TRANSACTION");
            if let (true, Loss::Answers(dropped)) = (is_script, loss) {
                let mut jobs = jobs.lock().unwrap();
                if jobs.answers_dropped < dropped {
                    jobs.answers_dropped += 1;
                    return;
                }
            }
            if is_script && !matches!(loss, Loss::Answers(_)) {
                lose_answer(&answer, &jobs)
            } else {
                [answer.head.into_bytes(), answer.body].concat()
            }
        };
        if client_writer.write_all(&response).await.is_err() {
            return;
        }
    }
}

async fn forward(target: &str, request: &Message) -> Message {
    let server = TcpStream::connect(target).await.expect("the emulator accepts a connection");
    let (server_reader, mut server_writer) = server.into_split();
    server_writer.write_all(request.head.as_bytes()).await.expect("the request reaches the emulator");
    server_writer.write_all(&request.body).await.expect("the request reaches the emulator");
    read_message(&mut BufReader::new(server_reader)).await.expect("the emulator answers")
}

/// A finished script's answer as one that has not finished: the job named, nothing else.
fn lose_answer(answer: &Message, jobs: &Mutex<LostJobs>) -> Vec<u8> {
    let finished: Json = serde_json::from_slice(&answer.body).expect("the emulator answers JSON");
    let job = &finished["jobReference"];
    let job_id = job["jobId"].as_str().expect("the answer names its job");
    let mut jobs = jobs.lock().unwrap();
    jobs.lost.insert(job_id.to_owned());
    jobs.withheld.insert(job_id.to_owned());
    let unfinished = serde_json::json!({
        "kind": "bigquery#queryResponse",
        "jobReference": job,
        "jobComplete": false,
    });
    json_response("200 OK", &unfinished)
}

/// The emulator as a backend, a relay in front of it losing `loss`, and a warehouse on the same
/// datasets through the relay; `None` without the emulator.
async fn behind_relay(loss: Loss) -> Option<(Backend, LosingRelay, BigQueryWarehouse)> {
    let host = emulator_host()?;
    let backend = Backend::emulator(&host).await;
    let relay = LosingRelay::start(&host, loss).await;
    let lossy = relay.warehouse(&backend.settings.dataset_prefix).await;
    Some((backend, relay, lossy))
}

fn day() -> ReplaceScope {
    ReplaceScope::Partitions(vec![date("2025-01-15")])
}

/// The script committed: the write reports what it did (read from the job's results once its
/// state said so, or without its deleted rows when they cannot be read), and its rows are there
/// once.
#[tokio::test]
async fn a_lost_write_script_that_committed_is_reported_as_written() {
    let Some((backend, relay, lossy)) = behind_relay(Loss::ResultsUntilCancelled).await else { return };

    let first = vec![feature_row("lebronjames", 97.35), feature_row("stephcurry", 88.0)];
    let reports = lossy.replace(&ML_FEATURE_STORE_V2, day(), first, true).await.expect("the write settles");
    assert_eq!((reports.rows_deleted, reports.rows_inserted), (0, 2));
    let second = vec![feature_row("kevindurant", 60.0)];
    let reports = lossy.replace(&ML_FEATURE_STORE_V2, day(), second, true).await.expect("the write settles");
    assert_eq!((reports.rows_deleted, reports.rows_inserted), (2, 1));
    assert_eq!(relay.lost_jobs().len(), 2, "both scripts' answers were lost");

    let host = backend.settings.bigquery_emulator_host.as_deref().expect("the emulator's address");
    let unread = LosingRelay::start(host, Loss::Results).await;
    let lossy = unread.warehouse(&backend.settings.dataset_prefix).await;
    let third = vec![feature_row("nikolajokic", 99.0)];
    let reports = lossy.replace(&ML_FEATURE_STORE_V2, day(), third, true).await.expect("the write settles");
    assert_eq!((reports.rows_deleted, reports.rows_inserted), (0, 1), "its deleted row uncounted");
    assert_eq!(unread.lost_jobs().len(), 1, "the script's answer was lost");

    let stored = export(backend.warehouse.as_ref(), &ML_FEATURE_STORE_V2, None).await;
    assert_eq!(stored.lines().count(), 2, "the header and one row: {stored}");
    assert!(stored.contains("nikolajokic"), "{stored}");
}

/// The script rolled back: the write fails with the job's own error, and the rows it would have
/// replaced stay.
#[tokio::test]
async fn a_lost_write_script_that_rolled_back_fails_with_its_error() {
    let Some((backend, relay, lossy)) = behind_relay(Loss::Results).await else { return };
    let stored = vec![feature_row("lebronjames", 97.35)];
    backend.warehouse.replace(&ML_FEATURE_STORE_V2, day(), stored, true).await.unwrap();

    let mut keyless = feature_row("kevindurant", 50.0);
    keyless[ML_FEATURE_STORE_V2.column_index("player_lookup").unwrap()] = Value::Null;
    let refused = vec![
        TableWrite::replace(&ML_FEATURE_STORE_V2, day(), vec![feature_row("stephcurry", 88.0)], true),
        TableWrite::replace(
            &ML_FEATURE_STORE_V2,
            ReplaceScope::Partitions(vec![date("2025-01-16")]),
            vec![keyless],
            false,
        ),
    ];
    let error = lossy.write_together(refused).await.unwrap_err();
    assert_eq!(relay.lost_jobs().len(), 1, "the script's answer was lost");
    let WarehouseError::Write { message, .. } = &error else { panic!("a write error: {error}") };
    assert!(!message.contains("unknown") && message.to_lowercase().contains("null"), "{message}");
    assert!(message.ends_with("(from the job's state: its end was not read, HTTP 503: the relay lost the answer (after 2 attempts), and it was asked to cancel)"), "{message}");
    let kept = export(backend.warehouse.as_ref(), &ML_FEATURE_STORE_V2, None).await;
    assert!(kept.contains("lebronjames") && !kept.contains("stephcurry"), "{kept}");
}

/// Neither the results nor the state of the job can be read: the write fails as of unknown
/// outcome, naming the job for an operator to look it up.
#[tokio::test]
async fn a_lost_write_script_whose_state_cannot_be_read_is_reported_as_unknown() {
    let Some((_backend, relay, lossy)) = behind_relay(Loss::ResultsAndState).await else { return };

    let rows = vec![feature_row("lebronjames", 97.35)];
    let error = lossy.replace(&ML_FEATURE_STORE_V2, day(), rows, true).await.unwrap_err();
    let [job] = &relay.lost_jobs()[..] else { panic!("one script's answer was lost") };
    let WarehouseError::OutcomeUnknown { message, .. } = &error else {
        panic!("an unknown outcome: {error}")
    };
    assert!(message.contains(&format!("the outcome of write script {job} is unknown")), "{message}");
    assert!(message.contains("it may still commit"), "{message}");
}

/// A run whose save scripts all lose their answers succeeds, and its history holds it once, as a
/// success: before, the lost output script was recorded as a failed run although it committed.
#[tokio::test]
async fn a_run_whose_save_scripts_are_lost_succeeds_and_is_recorded_once() {
    let Some((backend, relay, lossy)) = behind_relay(Loss::Results).await else { return };
    load_inputs(backend.warehouse.as_ref(), TWO_DATES).await;

    let summary = run_toy(&lossy, &backend.settings, &["2025-01-15"], false).await;
    assert_eq!(summary.outcomes[0].status, DateStatus::Succeeded { rows: 2, failures: 1 });
    assert_eq!(relay.lost_jobs().len(), 1, "the save's one script: output, history, checkpoint");
    let history = backend
        .warehouse
        .query(&Query::new("SELECT status FROM {nba_reference.processor_run_history}"))
        .await
        .expect("the history reads");
    assert_eq!(history.rows, [[Value::String("success".into())]]);
    let output = export(backend.warehouse.as_ref(), &TEAM_OFFENSE_GAME_SUMMARY, None).await;
    assert_eq!(output.lines().count(), 3, "the header and the date's two teams: {output}");
}

/// A script whose answer is cut off (the connection closed after the request went out) is sent
/// again under its request id: BigQuery answers a repeat with the first job, the emulator runs
/// it again, which a replace makes harmless. The write succeeds and its rows are there once.
#[tokio::test]
async fn a_write_script_whose_answer_is_cut_off_is_sent_again() {
    let Some((backend, relay, lossy)) = behind_relay(Loss::Answers(1)).await else { return };

    let rows = vec![feature_row("lebronjames", 97.35), feature_row("stephcurry", 88.0)];
    let report =
        lossy.replace(&ML_FEATURE_STORE_V2, day(), rows, true).await.expect("the write is sent again");
    assert_eq!(report.rows_inserted, 2);
    assert_eq!(relay.jobs.lock().unwrap().answers_dropped, 1);
    let stored = export(backend.warehouse.as_ref(), &ML_FEATURE_STORE_V2, None).await;
    assert_eq!(stored.lines().count(), 3, "the header and two rows: {stored}");
}

/// No answer on any attempt: the write fails as of unknown outcome, saying that the script may
/// still commit.
#[tokio::test]
async fn a_write_script_never_answered_fails_saying_it_may_still_commit() {
    let Some((_backend, relay, lossy)) = behind_relay(Loss::Answers(usize::MAX)).await else { return };

    let rows = vec![feature_row("lebronjames", 97.35)];
    let error = lossy.replace(&ML_FEATURE_STORE_V2, day(), rows, true).await.unwrap_err();
    let WarehouseError::OutcomeUnknown { message, .. } = &error else {
        panic!("an unknown outcome: {error}")
    };
    assert!(
        message.contains("(after 2 attempts); the script may have been received and may still commit"),
        "{message}"
    );
    assert_eq!(relay.jobs.lock().unwrap().answers_dropped, 2);
}
