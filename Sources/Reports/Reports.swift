/// The `Reports` module: HTML and CSV reports, submissions, scoring and leaderboards.
/// See README.md, "Targets".
import ResultsStore
