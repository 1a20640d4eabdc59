"""docs/ci.md works as written: every YAML snippet parses (python3-yaml) into a job of the
shape its CI system reads, and every sysgate command in any snippet (YAML, shell, Jenkins,
cron) parses with sysgate's own argument parser, its --format names known to its
command. The compare example runs for real on synthetic files."""

import re
import shlex

import pytest

import history_synth as synth
from conftest import ROOT, sysgate
from sysgatelib import cli, store
from sysgatelib.render import formats
from sysgatelib.verdicts import comparison

yaml = pytest.importorskip("yaml", reason="python3-yaml (deps test)")

DOC = ROOT / "docs" / "ci.md"
SYSGATE = "scripts/sysgate"
# What the CI systems put in the environment, for the commands to parse.
ENVIRONMENT = {"GITHUB_STEP_SUMMARY": "/tmp/step-summary.md",
               "SYSGATE_DB": "postgresql://sysgate_ci@db.example/sysgate",
               "CI_RUNNER_ID": "7"}
SHELL_OPERATORS = {";", "&&", "||", "|", ">", ">>", "&", ")", "("}
ACTIONS = {"actions/checkout@v4", "actions/cache@v4", "actions/upload-artifact@v4"}


def _blocks():
    """(language, text) of every fenced block of docs/ci.md."""
    return re.findall(r"^```(\w*)\n(.*?)^```", DOC.read_text(), flags=re.S | re.M)


def _yaml_documents():
    return [yaml.safe_load(text) for lang, text in _blocks() if lang == "yaml"]


def _github(documents):
    return [doc for doc in documents if "jobs" in doc]


def _gitlab(documents):
    return [job for doc in documents if "jobs" not in doc for job in doc.values()]


def _shell_texts():
    """Every piece of shell in the page: run steps and script lines of the YAML, the
    other blocks as they stand."""
    texts = []
    for lang, text in _blocks():
        if lang != "yaml":
            texts.append(text)
    for doc in _github(_yaml_documents()):
        texts += [step["run"] for job in doc["jobs"].values() for step in job["steps"]
                  if "run" in step]
    for job in _gitlab(_yaml_documents()):
        texts += job["script"]
    return texts


def _expand(word):
    return re.sub(r"\$\{?(\w+)\}?", lambda m: ENVIRONMENT.get(m.group(1), m.group(0)), word)


def _commands():
    """The argument lists after scripts/sysgate, one per invocation."""
    found = []
    for text in _shell_texts():
        for line in text.replace("\\\n", " ").splitlines():
            if SYSGATE not in line:
                continue
            lexer = shlex.shlex(line[line.index(SYSGATE):], posix=True,
                                punctuation_chars=True)
            lexer.whitespace_split = True
            words = list(lexer)[1:]
            end = next((i for i, w in enumerate(words) if w in SHELL_OPERATORS), len(words))
            found.append([_expand(w) for w in words[:end]])
    return found


def test_the_page_has_every_snippet_the_issue_asks_for():
    languages = [lang for lang, _ in _blocks()]
    assert languages.count("yaml") >= 4 and "groovy" in languages
    documents = _yaml_documents()
    assert len(_github(documents)) == 2 and len(_gitlab(documents)) == 2
    commands = _commands()
    assert {argv[0] for argv in commands} >= {"gate", "compare", "run", "deps"}
    used = {spec.partition("=")[0] for argv in commands for spec in _formats(argv)}
    assert used == set(formats.FORMATS)


def _formats(argv):
    return [argv[i + 1] for i, word in enumerate(argv) if word == "--format"] + [
        word.split("=", 1)[1] for word in argv if word.startswith("--format=")]


def test_every_sysgate_command_parses_with_sysgates_own_parser():
    parser = cli.build_parser()
    for argv in _commands():
        try:
            args = parser.parse_args(argv)
        except SystemExit:
            pytest.fail(f"docs/ci.md: `sysgate {' '.join(argv)}` does not parse")
        allowed = formats.RUN_FORMATS if argv[0] == "run" else formats.COMPARE_FORMATS
        for spec in getattr(args, "formats", []):
            assert spec.partition("=")[0] in allowed, (argv, spec)


def test_the_github_jobs_have_the_shape_actions_reads():
    for doc in _github(_yaml_documents()):
        for job in doc["jobs"].values():
            assert "self-hosted" in job["runs-on"]
            for step in job["steps"]:
                assert ("uses" in step) != ("run" in step), step
                assert step.get("uses", "actions/checkout@v4") in ACTIONS
    (first, _) = _github(_yaml_documents())
    steps = first["jobs"]["sysgate"]["steps"]
    cache = next(s for s in steps if s.get("uses", "").startswith("actions/cache"))
    assert cache["with"]["path"] == str(store.DEFAULT_DB.relative_to(store.REPO_ROOT))
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload"))
    assert upload["if"] == "always()"
    gate = next(s["run"] for s in steps if "gate previous" in s.get("run", ""))
    assert f"{comparison.EXIT_INCONCLUSIVE}) " in gate  # the exit codes are handled by name


def test_the_gitlab_jobs_report_what_they_write():
    for job in _gitlab(_yaml_documents()):
        assert job["allow_failure"] == {"exit_codes": [comparison.EXIT_INCONCLUSIVE]}
        assert job["artifacts"]["when"] == "always"
        written = {spec.partition("=")[0]: spec.partition("=")[2]
                   for line in job["script"] if SYSGATE in line
                   for spec in _formats(shlex.split(line.replace("\n", " ")))}
        for report, path in job["artifacts"]["reports"].items():
            name = {"junit": "junit", "metrics": "openmetrics"}[report]
            assert written[name] == path


def test_the_compare_example_runs(tmp_path):
    synth.write_results(tmp_path / "base.json", seed=1, repetitions=12)
    synth.write_results(tmp_path / "new.json", seed=2, repetitions=12,
                        add_ns={"getpid/syscall": 12.5, "getppid/syscall": 12.5,
                                "time/syscall": 12.5, "getpid/glibc": 12.5})
    (argv,) = [a for a in _commands() if a[:3] == ["compare", "base.json", "new.json"]]
    done = sysgate(*argv, cwd=tmp_path, timeout=120)
    assert done.returncode == 1, done.stderr
    assert "         %stddev     %change         %stddev" in done.stdout
