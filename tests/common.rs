//! What every lab's test file shares: starting the lab's program, finding its run folder.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The lab program at `exe`, blind to the user's own data folder.
pub fn lab(exe: &str) -> Command {
    let mut command = Command::new(exe);
    command.env_remove("BURN_LABS_DATA");
    command
}

/// The one run folder that `<out>/<lab>/` holds after a test's run.
pub fn only_run_folder(out: &Path, lab: &str) -> PathBuf {
    let runs: Vec<PathBuf> = std::fs::read_dir(out.join(lab))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(runs.len(), 1, "{runs:?}");
    runs[0].clone()
}

/// Runs a lab to the end and returns what it printed; a failure shows its stdout and stderr.
pub fn succeed(command: &mut Command) -> String {
    let output = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}
