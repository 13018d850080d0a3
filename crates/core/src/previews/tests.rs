//! Tests of the preview requests against a real bus and real files.

use super::*;
use mossy_protocol::bridge::Percent;

fn start(dir: &Path, answer_timeout: Duration) -> (PreviewRequests, Bus) {
    let bus = Bus::new();
    let config = PreviewsConfig {
        dir: dir.to_owned(),
        answer_timeout,
    };
    (PreviewRequests::start(config, &bus), bus)
}

fn publish(bus: &Bus, message: BridgeMessage) {
    bus.publish(BusEvent::BridgeMessageReceived {
        message,
        received_at_ms: clock::now_ms(),
    });
}

/// Longest wait for a request's status: the timeout case needs a timer tick and file copies,
/// and a loaded machine is slow at both.
const STATUS_WAIT: Duration = Duration::from_secs(20);

/// Waits until the request's status is `status`, for at most [`STATUS_WAIT`].
async fn wait_for(requests: &PreviewRequests, status: PreviewStatus) -> PreviewRequest {
    let mut changes = requests.watch();
    let waited = tokio::time::timeout(STATUS_WAIT, async {
        loop {
            let first = requests.snapshot().requests.into_iter().next();
            if let Some(request) = first.filter(|request| request.status == status) {
                return request;
            }
            changes.changed().await.expect("requests still alive");
        }
    });
    waited.await.expect("status reached in time")
}

fn png(path: &Path, width: u32, height: u32) {
    image::RgbaImage::from_pixel(width, height, image::Rgba([10, 200, 30, 255]))
        .save(path)
        .expect("png written");
}

#[tokio::test]
async fn progress_then_complete_keeps_only_real_images() {
    let temp = tempfile::tempdir().expect("temp dir");
    let (requests, bus) = start(&temp.path().join("kept"), ANSWER_TIMEOUT);
    let mossy = temp.path().join("mossy out #1 ü");
    std::fs::create_dir_all(&mossy).expect("folder");
    png(&mossy.join("a.png"), 64, 32);
    png(&mossy.join("b.png"), 16, 16);
    std::fs::write(mossy.join("notes.png"), "not a picture").expect("text");

    let request = requests.begin("/m/a.dds".into(), "rusty".into());
    let id = request.id.0.clone();
    publish(
        &bus,
        BridgeMessage::GenerationProgress {
            request_id: id.clone(),
            percent: Percent::new(40.0),
        },
    );
    let running = wait_for(&requests, PreviewStatus::Running).await;
    assert_eq!(running.percent, Some(40.0));

    let paths = ["a.png", "b.png", "notes.png"]
        .map(|name| mossy.join(name).to_string_lossy().into_owned())
        .into_iter()
        .chain(["relative.png".to_owned()])
        .collect();
    publish(
        &bus,
        BridgeMessage::GenerationComplete {
            request_id: id.clone(),
            paths,
        },
    );
    let done = wait_for(&requests, PreviewStatus::Complete).await;

    assert_eq!(
        done.images,
        [
            PreviewImage {
                file: "1.png".into(),
                width: 64,
                height: 32
            },
            PreviewImage {
                file: "2.png".into(),
                width: 16,
                height: 16
            },
        ]
    );
    assert!(
        done.message
            .as_deref()
            .is_some_and(|m| m.starts_with("2 of 4 images were left out")),
        "{:?}",
        done.message
    );
    let kept = requests.image_path(&id, "1.png").expect("served");
    assert_eq!(kept, temp.path().join("kept").join(&id).join("1.png"));
    assert_eq!(
        std::fs::read(&kept).expect("copied"),
        std::fs::read(mossy.join("a.png")).expect("source")
    );
    assert_eq!(requests.image_path(&id, "3.png"), None);
    assert_eq!(requests.image_path(&id, "../../a.png"), None);
    assert_eq!(requests.image_path("other", "1.png"), None);
}

#[cfg(unix)]
#[tokio::test]
async fn links_and_folders_are_refused_and_nothing_usable_fails() {
    let temp = tempfile::tempdir().expect("temp dir");
    let (requests, bus) = start(&temp.path().join("kept"), ANSWER_TIMEOUT);
    let real = temp.path().join("real.png");
    png(&real, 8, 8);
    let link = temp.path().join("link.png");
    std::os::unix::fs::symlink(&real, &link).expect("symlink");

    let request = requests.begin("/m/a.dds".into(), "p".into());
    publish(
        &bus,
        BridgeMessage::GenerationComplete {
            request_id: request.id.0.clone(),
            paths: vec![
                link.to_string_lossy().into_owned(),
                temp.path().to_string_lossy().into_owned(),
            ],
        },
    );
    let failed = wait_for(&requests, PreviewStatus::Failed).await;

    assert!(failed.images.is_empty());
    assert!(
        failed
            .message
            .as_deref()
            .is_some_and(|m| m.contains("is not a regular file")),
        "{:?}",
        failed.message
    );
}

#[tokio::test]
async fn silence_marks_a_request_timed_out() {
    let temp = tempfile::tempdir().expect("temp dir");
    let (requests, _bus) = start(temp.path(), Duration::from_millis(100));

    requests.begin("/m/a.dds".into(), "p".into());
    let timed_out = wait_for(&requests, PreviewStatus::TimedOut).await;

    assert!(
        timed_out
            .message
            .is_some_and(|m| m.starts_with("Mossy did not answer")),
    );
}

#[tokio::test]
async fn messages_for_unknown_requests_change_nothing() {
    let temp = tempfile::tempdir().expect("temp dir");
    let (requests, bus) = start(temp.path(), ANSWER_TIMEOUT);
    let request = requests.begin("/m/a.dds".into(), "p".into());
    publish(
        &bus,
        BridgeMessage::GenerationProgress {
            request_id: "someone-else".into(),
            percent: Percent::new(50.0),
        },
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(requests.snapshot().requests, std::slice::from_ref(&request));

    requests.withdraw(&request.id);
    assert!(requests.snapshot().requests.is_empty());
}

#[test]
fn prompts_are_trimmed_and_checked() {
    assert_eq!(check_prompt("  rusty metal \n"), Ok("rusty metal".into()));
    assert_eq!(check_prompt(" \t "), Err(PromptError::Empty));
    let long = "ü".repeat(MAX_PROMPT_CHARS + 1);
    assert_eq!(
        check_prompt(&long),
        Err(PromptError::TooLong {
            chars: MAX_PROMPT_CHARS + 1
        })
    );
    assert!(check_prompt(&"ü".repeat(MAX_PROMPT_CHARS)).is_ok());
}
