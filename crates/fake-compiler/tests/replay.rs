//! The fake compiler plays a transcript to the right streams with the right exit code.
//!
//! Having an integration test also makes `cargo test --workspace` build the binary itself
//! into the target folder, where the build runner's tests in `mossy-tests` look for it.

use std::path::PathBuf;
use std::process::Command;

#[test]
fn replay_splits_a_transcript_into_stdout_stderr_and_exit_code() {
    let transcript =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/logs/one-error.log");
    let output = Command::new(env!("CARGO_BIN_EXE_mossy-fake-compiler"))
        .arg("replay")
        .arg(&transcript)
        .output()
        .expect("the fake compiler runs");

    let stdout = String::from_utf8(output.stdout).expect("UTF-8 stdout");
    let stderr = String::from_utf8(output.stderr).expect("UTF-8 stderr");
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr,
        "C:\\Mods\\Scripts\\Source\\User\\MyQuestScript.psc(12,8): variable Foo is undefined\n"
    );
    assert_eq!(
        stdout,
        "Papyrus Compiler Version 2.8.0.4 for Fallout 4\n\
         Copyright (C) ZeniMax Media. All rights reserved.\n\
         Starting 1 compile threads for 2 files...\n\
         Compiling \"MyQuestScript\"...\n\
         No output generated for MyQuestScript, compilation failed.\n\
         Compiling \"MyQuestAliasScript\"...\n\
         Starting assembly of MyQuestAliasScript\n\
         0 error(s), 0 warning(s)\n\
         Assembly succeeded\n\
         \n\
         Batch compile of 2 files finished. 1 succeeded, 1 failed.\n"
    );
}

#[test]
fn a_bad_command_line_is_refused_with_a_usage_code() {
    let output = Command::new(env!("CARGO_BIN_EXE_mossy-fake-compiler"))
        .arg("no-such-mode")
        .output()
        .expect("the fake compiler runs");
    assert_eq!(output.status.code(), Some(64));
}
