//! The simulator's answer to `generate_preview`, over a real WebSocket: progress, real PNG
//! files, `generation_complete`; and the app side (bridge client and preview requests)
//! keeping copies of those files.

use std::path::Path;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use mossy_core::bridge::spawn_bridge_client;
use mossy_core::bus::Bus;
use mossy_core::previews::{PreviewRequests, PreviewsConfig};
use mossy_core::sim::previews::{GENERATION_STEPS, PREVIEW_COUNT, decode_picture};
use mossy_core::sim::{self, Playback, PreviewConfig, SimConfig, SimServer};
use mossy_protocol::bridge::{BridgeMessage, ClientMessage};
use mossy_protocol::previews::PreviewStatus;
use mossy_tests::{client_config, load_scenario, wait_connected, within};
use tokio_tungstenite::tungstenite::Message;

/// A simulator that plays `bare.jsonl` once and writes previews into `dir`.
async fn simulator(dir: &Path) -> SimServer {
    let config = SimConfig {
        listen: "127.0.0.1:0".parse().expect("address"),
        allow_remote: false,
        playback: Playback::Scenario {
            scenario: load_scenario("bare.jsonl"),
            looping: false,
        },
        previews: PreviewConfig {
            dir: dir.to_owned(),
            decode: decode_picture,
        },
    };
    sim::serve(config).await.expect("the simulator starts")
}

fn source_png(path: &Path) {
    let picture = image::RgbaImage::from_fn(300, 200, |x, y| {
        image::Rgba([(x % 256) as u8, (y % 256) as u8, 90, 255])
    });
    picture.save(path).expect("source written");
}

#[tokio::test]
async fn answers_generate_preview_with_progress_and_real_pngs() {
    let temp = tempfile::tempdir().expect("temp dir");
    let source = temp.path().join("Cuirass #1 ü.png");
    source_png(&source);
    let out = temp.path().join("out");
    let server = simulator(&out).await;
    let (mut socket, _) = tokio_tungstenite::connect_async(server.url())
        .await
        .expect("connects");

    // Regression: a malformed client frame must be ignored, not end the session.
    socket
        .send(Message::text("{\"type\":\"generate_preview\""))
        .await
        .expect("sent");
    let request = ClientMessage::GeneratePreview {
        request_id: "r-1".into(),
        asset: source.to_string_lossy().into_owned(),
        prompt: "rusty".into(),
    };
    let text = serde_json::to_string(&request).expect("encodes");
    socket.send(Message::text(text)).await.expect("sent");

    let mut percents = Vec::new();
    let paths = within("the previews arrive", async {
        loop {
            let Some(Ok(Message::Text(text))) = socket.next().await else {
                panic!("the session ended before generation_complete");
            };
            match serde_json::from_str::<BridgeMessage>(text.as_str()).expect("a message") {
                BridgeMessage::GenerationProgress {
                    request_id,
                    percent,
                } => {
                    assert_eq!(request_id, "r-1");
                    percents.push(percent.expect("a percent").get());
                }
                BridgeMessage::GenerationComplete { request_id, paths } => {
                    assert_eq!(request_id, "r-1");
                    break paths;
                }
                _ => {} // the scenario's own messages
            }
        }
    })
    .await;

    assert_eq!(percents, GENERATION_STEPS);
    assert_eq!(paths.len(), PREVIEW_COUNT);
    let pictures: Vec<image::RgbaImage> = paths
        .iter()
        .map(|path| {
            assert!(Path::new(path).starts_with(out.join("r-1")), "{path}");
            image::open(path).expect("a real PNG").to_rgba8()
        })
        .collect();
    for picture in &pictures {
        assert_eq!(picture.dimensions(), (256, 171));
    }
    assert_ne!(pictures[0], pictures[1]);
    assert_ne!(pictures[1], pictures[2]);
    server.stop().await;
}

#[tokio::test]
async fn the_app_keeps_copies_of_what_the_simulator_generates() {
    let temp = tempfile::tempdir().expect("temp dir");
    let source = temp.path().join("diffuse.png");
    source_png(&source);
    let server = simulator(&temp.path().join("mossy")).await;
    let bus = Bus::new();
    let requests = PreviewRequests::start(
        PreviewsConfig {
            dir: temp.path().join("kept"),
            answer_timeout: Duration::from_secs(30),
        },
        &bus,
    );
    let client = spawn_bridge_client(client_config(&server.url()), bus);
    wait_connected(&mut client.watch()).await;

    let request = requests.begin(source.to_string_lossy().into_owned(), "chrome".into());
    client
        .send(ClientMessage::GeneratePreview {
            request_id: request.id.0.clone(),
            asset: request.asset.clone(),
            prompt: request.prompt.clone(),
        })
        .expect("sent");
    let mut changes = requests.watch();
    let done = within("the request completes", async {
        loop {
            let latest = requests.snapshot().requests.remove(0);
            if latest.status.is_final() {
                break latest;
            }
            changes.changed().await.expect("alive");
        }
    })
    .await;

    assert_eq!(done.status, PreviewStatus::Complete, "{:?}", done.message);
    assert_eq!(done.images.len(), PREVIEW_COUNT);
    for image in &done.images {
        let kept = requests
            .image_path(done.id.as_str(), &image.file)
            .expect("kept");
        assert!(kept.starts_with(temp.path().join("kept")));
        let picture = image::open(&kept).expect("a real picture");
        assert_eq!(
            (picture.width(), picture.height()),
            (image.width, image.height)
        );
    }
    server.stop().await;
}
