//! What a snapshot of admit's output masks: only what differs between two runs of the same
//! build on the same input, wherever they run. That is the elapsed time (the summary line of
//! the human, concise and GitHub reports, JSON's `seconds`, JUnit's `time`) and this
//! checkout's absolute path (a report names a policy module given as a path by that path).

/// insta settings for a snapshot of admit's output, with those masks.
pub fn settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    // "(0.37 s)", or "(0.00 s; 2 files unchanged since the last run)".
    settings.add_filter(r"\(\d+\.\d+ s\b", "([ELAPSED] s");
    settings.add_filter(r#""seconds": [0-9.e+-]+"#, r#""seconds": "[ELAPSED]""#);
    settings.add_filter(r#" time="[0-9.]+""#, r#" time="[ELAPSED]""#);
    settings.add_filter(
        &regex::escape(&super::root().display().to_string()),
        "[ROOT]",
    );
    settings
}
