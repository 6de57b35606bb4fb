"""Job settings and rendered job scripts, without a scheduler: validation of every user value,
shell quoting (hostile values must arrive as plain arguments), SLURM and PBS directive syntax,
the memory-per-node warning, and the templates' by-hand use."""
from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cli_runner import DATA, MODELS, REPO
from hpc_helpers import brainsim as run_brainsim

from brainsim.scheduler import SchedulerError
from brainsim.scheduler.memory import config_memory_warning, memory_warning
from brainsim.scheduler.render import JobRun, render
from brainsim.scheduler.settings import job_settings, parse_walltime

PD14 = os.path.join(MODELS, "potjans_diesmann_2014.yaml")
CLUSTER = os.path.join(REPO, "configs", "cluster.yaml")
SMALL = ["--set", "scale=0.02", "--set", "simulation.t_sim=200",
         "--set", "simulation.warmup=50"]


def settings(scheduler="slurm", run=None, **flags):
    return job_settings(run or {}, {"scheduler": scheduler, **flags}, "test.yaml", "pd14")


def job(tmp_path, **changes):
    fields = dict(model=str(tmp_path / "model.yaml"), config=None, outdir=str(tmp_path / "out"),
                  overrides=(), python=sys.executable, brainsim_root=REPO,
                  workdir=str(tmp_path))
    fields.update(changes)
    return JobRun(**fields)


# --- validation: hostile values are refused with the setting's name -------------------

@pytest.mark.parametrize("flag, value, named", [
    ("job_name", "x; touch /tmp/pwned", "--job-name"),
    ("job_name", "x\n#SBATCH --uid=0", "--job-name"),
    ("partition", "debug;id", "--partition"),
    ("partition", "debug\nid", "--partition"),
    ("account", "$(id)", "--account"),
    ("account", "proj`id`", "--account"),
    ("time", "01:00:00; id", "--time"),
    ("time", "1 hour", "--time"),
    ("mem", "4G && id", "--mem"),
    ("launcher", "srun; touch /tmp/pwned", "--launcher"),
    ("launcher", "srun $(id)", "--launcher"),
    ("scheduler", "lsf", "run.scheduler"),
    ("nodes", 0, "--nodes"),
    ("ntasks_per_node", -2, "--ntasks-per-node"),
    ("chain", -1, "--chain"),
])
def test_hostile_or_bad_flags_are_refused(flag, value, named):
    with pytest.raises(SchedulerError) as err:
        job_settings({}, {"scheduler": "slurm", flag: value}, "test.yaml", "pd14")
    message = str(err.value)
    assert named in message or "scheduler" in message
    assert "\n" not in message


@pytest.mark.parametrize("key, value", [
    ("directives", ["--constraint=x\nrm -rf ~"]),
    ("directives", ["--comment=$(id)"]),
    ("directives", "--exclusive"),
    ("environment", {"A;B": "1"}),
    ("environment", {"A": "x\ny"}),
    ("job_name", "a b"),
    ("walltime", 3600),
    ("warning_seconds", 7200),
    ("overcommit", "yes"),
    ("memory_per_node_gb", -1),
    ("unknown_key", 1),
])
def test_hostile_or_bad_config_values_are_refused(key, value):
    with pytest.raises(SchedulerError) as err:
        settings(run={key: value, "walltime": "01:00:00"} if key != "walltime"
                 else {key: value})
    assert f"run.{key}" in str(err.value)


def test_pbs_job_names_start_with_a_letter_and_are_short():
    assert settings("pbs").job_name == "pd14"
    for bad in ("1job", "a" * 16, "job name", "_job"):
        with pytest.raises(SchedulerError, match="--job-name"):
            settings("pbs", job_name=bad)
    assert settings("slurm", job_name="1job").job_name == "1job"


def test_config_run_mapping_and_flags():
    s = job_settings({"scheduler": "pbs", "nodes": 4, "ranks_per_node": 16,
                      "walltime": "01:00:00", "partition": "big", "account": "proj1",
                      "chain": 3}, {"nodes": 2, "time": "00:30:00"}, "c.yaml", "m")
    assert (s.scheduler, s.nodes, s.ranks_per_node, s.walltime_s) == ("pbs", 2, 16, 1800)
    assert (s.partition, s.account, s.chain, s.warning_s) == ("big", "proj1", 3, 120)
    laptop = job_settings({"ranks": 2}, {"scheduler": "slurm"}, "laptop.yaml", "m")
    assert (laptop.nodes, laptop.ranks_per_node) == (1, 2)
    assert parse_walltime("1-02:00:00", "t") == 26 * 3600
    assert settings(time="00:04:00").warning_s == 60        # a quarter of a short limit


# --- quoting: hostile values that may reach the script arrive unchanged -----------------

HOSTILE = ["output.directory=x'$(touch PWNED)'", 'recording.note="; touch PWNED; "',
           "a=`touch PWNED` $HOME \\ \"' *"]


def test_hostile_values_arrive_as_plain_arguments(tmp_path):
    """Run the rendered script with bash, the launcher replaced by a program that records
    its arguments: every hostile value arrives as one unchanged argument, nothing runs."""
    odd = tmp_path / "dir with $(touch PWNED) and 'quotes'"
    odd.mkdir()
    model, config = odd / "model;touch PWNED.yaml", odd / "c`touch PWNED`.yaml"
    record = tmp_path / "argv.json"
    launcher = tmp_path / "record_argv.py"
    launcher.write_text("import json, os, sys\n"
                        f"json.dump(sys.argv[1:], open({str(record)!r}, 'w'))\n")
    s = settings(run={"launcher": [sys.executable, str(launcher)],
                      "environment": {"NOTE": "$(touch PWNED); `touch PWNED`"}})
    j = job(tmp_path, model=str(model), config=str(config), overrides=tuple(HOSTILE),
            workdir=str(odd))
    script = tmp_path / "out" / "job.sbatch"
    script.parent.mkdir()
    script.write_text(render(s, j))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_")}
    done = subprocess.run(["bash", str(script)], capture_output=True, text=True, cwd=tmp_path,
                          env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    argv = json.loads(record.read_text())
    expected = [sys.executable, "-m", "brainsim", "run", str(model), "--config", str(config),
                "-o", j.outdir, "--no-progress"]
    for value in HOSTILE:
        expected += ["--set", value]
    assert argv == expected
    assert not list(tmp_path.rglob("PWNED"))
    events = [json.loads(line) for line in (tmp_path / "out" / "scheduler_log.jsonl")
              .read_text().splitlines()]
    assert [e["event"] for e in events] == ["started", "ended"]
    assert events[-1]["status"] == 0


def test_submit_dry_run_quotes_a_hostile_set_value(tmp_path):
    out = tmp_path / "out"
    hostile = "output.directory=x'$(touch PWNED)'; touch PWNED"
    done = run_brainsim(["submit", PD14, "--scheduler", "slurm", *SMALL, "--set", hostile,
                         "-o", str(out), "--dry-run"], cwd=str(tmp_path))
    assert done.returncode == 0, done.stderr
    text = (out / "job.sbatch").read_text()
    assert shlex.quote(hostile) in text
    settings_block = text.split("# >>> brainsim submit: settings\n")[1].split("# <<<")[0]
    run_options = next(line for line in settings_block.splitlines()
                       if line.startswith("run_options="))
    assert shlex.split(run_options[len("run_options=("):-1])[-1] == hostile
    assert subprocess.run(["bash", "-n", str(out / "job.sbatch")]).returncode == 0
    assert not list(tmp_path.rglob("PWNED"))


def test_submit_refuses_an_output_directory_that_cannot_go_into_a_directive(tmp_path):
    done = run_brainsim(["submit", PD14, "--scheduler", "slurm", *SMALL,
                         "-o", str(tmp_path / "a b"), "--dry-run"], cwd=str(tmp_path))
    assert done.returncode == 2
    assert "brainsim: error: -o (output directory)" in done.stderr
    assert not (tmp_path / "a b").exists()


def test_submit_refuses_bad_flags_with_one_line(tmp_path):
    done = run_brainsim(["submit", PD14, "--scheduler", "slurm", *SMALL, "--partition",
                         "x;id", "-o", str(tmp_path / "o"), "--dry-run"], cwd=str(tmp_path))
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "--partition" in done.stderr
    assert not (tmp_path / "o").exists()


# --- directive syntax -------------------------------------------------------------------

def directive_lines(text, prefix):
    return [line[len(prefix) + 1:] for line in text.splitlines() if line.startswith(prefix)]


def test_slurm_directives(tmp_path):
    s = settings(nodes=4, ntasks_per_node=16, time="1-00:00:00", partition="compute",
                 account="proj-1", mem="64G", overcommit=True,
                 run={"directives": ["--constraint=haswell", "--exclusive"]})
    lines = directive_lines(render(s, job(tmp_path)), "#SBATCH")
    assert lines == ["--job-name=pd14", "--nodes=4", "--ntasks-per-node=16",
                     "--cpus-per-task=1", "--time=24:00:00", "--signal=B:USR1@120",
                     f"--output={tmp_path}/out/slurm-%j.out", "--partition=compute",
                     "--account=proj-1", "--mem=64G", "--overcommit",
                     "--constraint=haswell", "--exclusive"]


PBS_DIRECTIVE = re.compile(
    r"-N [A-Za-z][A-Za-z0-9_.-]{0,14}"
    r"|-l select=[1-9][0-9]*:ncpus=[1-9][0-9]*:mpiprocs=[1-9][0-9]*(:mem=[0-9]+mb)?"
    r"|-l walltime=[0-9]{2,}:[0-5][0-9]:[0-5][0-9]"
    r"|-j oe|-o /[^\s]+|-q [A-Za-z0-9_.-]+|-A [A-Za-z0-9_.-]+|-l place=scatter")


def test_pbs_directives(tmp_path):
    s = settings("pbs", nodes=4, ntasks_per_node=16, cpus_per_task=2, time="30:00:00",
                 partition="workq", account="proj1", mem="64G", chain=2,
                 job_name="pd14_full", run={"directives": ["-l place=scatter"]})
    text = render(s, job(tmp_path))
    lines = directive_lines(text, "#PBS")
    for line in lines:
        assert PBS_DIRECTIVE.fullmatch(line), line
    assert "-N pd14_full" in lines
    assert "-l select=4:ncpus=32:mpiprocs=16:mem=65536mb" in lines
    assert "-l walltime=30:00:00" in lines
    assert {"-q workq", "-A proj1", "-j oe"} <= set(lines)
    # the directives come before the first command (PBS stops reading them there)
    first_command = next(i for i, line in enumerate(text.splitlines())
                         if line and not line.startswith("#"))
    assert all(i < first_command for i, line in enumerate(text.splitlines())
               if line.startswith("#PBS"))
    # the chain: a dependent continuation with PBS's -W depend syntax
    assert re.search(r'qsub -V -v "BRAINSIM_CHAIN_LEFT=\$\(\(chain_left - 1\)\)" \\\n\s+'
                     r'-W "depend=afterany:\$job_id"', text)
    assert "ranks=64\nwalltime_s=108000\nwarning_s=120\nchain_left=${BRAINSIM_CHAIN_LEFT:-2}" \
        in text
    assert subprocess.run(["bash", "-n"], input=text, text=True).returncode == 0


def test_templates_stay_usable_by_hand():
    for name in ("slurm.sbatch", "pbs.pbs"):
        path = os.path.join(REPO, "jobs", name)
        assert subprocess.run(["bash", "-n", path]).returncode == 0
    done = subprocess.run(["bash", os.path.join(REPO, "jobs", "slurm.sbatch")],
                          capture_output=True, text=True)
    assert done.returncode != 0 and "usage: sbatch jobs/slurm.sbatch MODEL" in done.stderr


# --- memory per node ----------------------------------------------------------------------

def test_memory_warning_when_the_ranks_of_a_node_do_not_fit(tmp_path):
    from brainsim.spec import load_model
    model = load_model(PD14, CLUSTER)
    assert memory_warning(model, 4, 16, 64.0) is None
    warning = memory_warning(model, 1, 16, 1.0)
    assert warning and "run.memory_per_node_gb = 1 GB" in warning
    asked = memory_warning(model, 4, 16, None, mem_mib=512)
    assert asked and asked.startswith("warning: 4 node(s) x 16 rank(s) per node need about")
    assert "but mem = 512 MiB asked per node (512 MiB)" in asked
    assert memory_warning(model, 4, 16, None, mem_mib=64 * 1024) is None
    assert config_memory_warning(model) is None
    tight = load_model(PD14, CLUSTER, ["run.memory_per_node_gb=1"])
    assert "4 node(s) x 16 rank(s)" in config_memory_warning(tight)
    done = run_brainsim(["submit", PD14, "--config", CLUSTER, "--scheduler", "slurm",
                         "--set", "run.memory_per_node_gb=1", "-o", str(tmp_path / "o"),
                         "--dry-run"], cwd=str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "brainsim: warning: 4 node(s) x 16 rank(s) per node need about" in done.stderr


# --- the job log: what a job does next ------------------------------------------------------

def test_next_action_follows_the_log_and_the_output_files(tmp_path):
    from brainsim.scheduler import joblog
    out = str(tmp_path)
    assert joblog.next_action(out) == "run"                       # nothing there: by hand
    (tmp_path / "checkpoints" / "ckpt_000000000100").mkdir(parents=True)
    (tmp_path / "checkpoints" / "ckpt_000000000100" / "manifest.json").write_text("{}")
    assert joblog.next_action(out) == "resume"
    joblog.append(out, "submitted", job="7", fresh=True)          # brainsim submit --overwrite
    assert joblog.next_action(out) == "run"
    joblog.append(out, "started", job="7", action="run")
    assert joblog.next_action(out) == "resume"                    # the continuation
    (tmp_path / "run.json").write_text("{}")
    assert joblog.next_action(out) == "done"
    with open(joblog.log_path(out), "a") as handle:
        handle.write('{"torn": \n')
    assert [e["event"] for e in joblog.read(out)] == ["submitted", "started"]


# --- red team: hostile text in every `brainsim submit` option ---------------------------------

INJECTIONS = ["$(touch PWNED)", "`touch PWNED`", "'; touch PWNED; '", '"; touch PWNED; "',
              "x\ntouch PWNED", "x;touch PWNED", "x&&touch PWNED", "x|touch PWNED",
              "${IFS}touch${IFS}PWNED", "x\n#SBATCH --uid=0"]
# flag -> a valid value the injection is appended to; the flag's name in the refusal
CHECKED_FLAGS = {"--partition": ("debug", "--partition"), "--account": ("proj", "--account"),
                 "--time": ("01:00:00", "--time"), "--mem": ("4G", "--mem"),
                 "--job-name": ("job", "--job-name"), "--launcher": ("srun", "--launcher"),
                 "-o": ("out", "-o (output directory)")}
INTEGER_FLAGS = ["--nodes", "--ntasks-per-node", "--cpus-per-task", "--warning-seconds",
                 "--chain"]


def fake_programs(directory, *names, status=0, prints=""):
    """Programs on PATH that record their arguments (NAME.argv.jsonl) and print `prints`."""
    directory.mkdir(exist_ok=True)
    for name in names:
        program = directory / name
        program.write_text(f"#!{sys.executable}\nimport json, sys\n"
                           f"open({str(directory / (name + '.argv.jsonl'))!r}, 'a').write("
                           "json.dumps(sys.argv[1:]) + '\\n')\n"
                           f"sys.stdout.write({prints!r})\nsys.exit({status})\n")
        program.chmod(0o755)
    return {**os.environ, "PATH": f"{directory}{os.pathsep}{os.environ['PATH']}"}


def recorded(directory, name) -> list[list[str]]:
    path = directory / (name + ".argv.jsonl")
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def pwned(*roots) -> list:
    return [path for root in roots for path in Path(root).rglob("PWNED*")]


@pytest.mark.parametrize("flag", sorted(CHECKED_FLAGS) + INTEGER_FLAGS + ["--scheduler"])
def test_every_submit_flag_refuses_injected_text(tmp_path, flag):
    """Each injection appended to a valid value of the flag: refused with status 2 before
    anything is written or submitted, and nothing of it runs."""
    env = fake_programs(tmp_path / "bin", "sbatch", prints="1\n")
    valid, named = CHECKED_FLAGS.get(flag, ("1", flag))
    for injection in INJECTIONS:
        value = valid + injection
        if flag == "-o":
            value = str(tmp_path / value)
        args = ["submit", PD14, "--scheduler", "slurm", *SMALL, flag, value]
        if flag != "-o":
            args += ["-o", str(tmp_path / "out")]
        done = subprocess.run([sys.executable, "-m", "brainsim", *args], capture_output=True,
                              text=True, cwd=tmp_path, env=env, timeout=120)
        assert done.returncode == 2, (flag, injection, done.stderr)
        assert "Traceback" not in done.stderr
        if flag in CHECKED_FLAGS:
            assert done.stderr.startswith(f"brainsim: error: {named}: ") and \
                done.stderr.count("\n") == 1, done.stderr
        else:                                   # argparse: an integer / a choice
            assert f"argument {flag}" in done.stderr
        assert not (tmp_path / "out").exists() and not recorded(tmp_path / "bin", "sbatch")
    assert not pwned(tmp_path)


def hostile_tree(tmp_path):
    """A working directory, model and config whose paths hold every injection, and a config
    whose run.environment values do too."""
    odd = tmp_path / "work $(touch PWNED) `touch PWNED` 'q' \"dq\" ; x\nnewline"
    odd.mkdir()
    model = odd / "model $(touch PWNED);`touch PWNED`'\".yaml"
    shutil.copy(os.path.join(DATA, "small_network.yaml"), model)
    config = odd / "config\n$(touch PWNED).yaml"
    config.write_text("simulation: {t_sim: 100.0}\nrun:\n  environment:\n"
                      + "".join(f"    NOTE{i}: {json.dumps(text)}\n"
                                for i, text in enumerate(ENVIRONMENT_VALUES)))
    return odd, model, config


HOSTILE_SETS = [f"output.directory=x{text}" for text in INJECTIONS]   # YAML plain strings
# environment values with control characters are refused (test above); every other one
ENVIRONMENT_VALUES = [text for text in INJECTIONS if "\n" not in text]


# scheduler -> (submit program, launcher program, script name, job id variable)
FAKE_SCHEDULERS = {"slurm": ("sbatch", "srun", "job.sbatch", "SLURM_JOB_ID"),
                   "pbs": ("qsub", "mpiexec", "job.pbs", "PBS_JOBID")}


@pytest.mark.parametrize("scheduler", sorted(FAKE_SCHEDULERS))
def test_submit_with_hostile_paths_and_values_runs_nothing_injected(tmp_path, scheduler):
    """`brainsim submit` (a fake sbatch/qsub on PATH) from a working directory, with a model
    and a config, whose names hold shell syntax, --set values and environment values that do
    too; then the rendered script run by bash with a fake srun/mpiexec: every value arrives
    unchanged as one argument or variable, and nothing injected runs, also on the chain
    path (the step exits 75, the scheduler prints a hostile job id)."""
    submitter, launcher, script_name, job_variable = FAKE_SCHEDULERS[scheduler]
    odd, model, config = hostile_tree(tmp_path)
    bin_dir = tmp_path / "bin"
    out = tmp_path / "out"
    env = fake_programs(bin_dir, submitter, prints="4242;cluster$(touch${IFS}PWNED)\n")
    fake_programs(bin_dir, launcher, status=75)
    sets = [word for value in HOSTILE_SETS for word in ("--set", value)]
    # PBS: the venv's own mpiexec comes first on the job's PATH, so name the fake one
    launch = ["--launcher", str(bin_dir / launcher)] if scheduler == "pbs" else []
    done = subprocess.run([sys.executable, "-m", "brainsim", "submit", str(model), "--config",
                           str(config), "--scheduler", scheduler, "--chain", "1", *launch,
                           *sets, "-o", str(out)], capture_output=True, text=True, cwd=odd,
                          env={**env, "PYTHONPATH": REPO}, timeout=120)
    assert done.returncode == 0, done.stderr
    script = out / script_name
    first_submit = ["--parsable", str(script)] if scheduler == "slurm" else [str(script)]
    assert recorded(bin_dir, submitter) == [first_submit]
    # the batch job: the launcher records what it was asked to run, reports a checkpointed stop
    job_env = {key: value for key, value in env.items()
               if not key.startswith(("SLURM_", "PBS_"))}
    job_env[job_variable] = "4242"
    done = subprocess.run(["bash", str(script)], capture_output=True, text=True, cwd=tmp_path,
                          env=job_env, timeout=120)
    assert done.returncode == 75, done.stderr
    step = [sys.executable, "-m", "brainsim", "run", str(model), "--config", str(config),
            "-o", str(out), "--no-progress", *sets]
    expected = ["--mpi=pmi2", *step] if scheduler == "slurm" else ["-n", "1", *step]
    assert recorded(bin_dir, launcher) == [expected]
    continuation = (["--parsable", "--dependency=afterany:4242", str(script)]
                    if scheduler == "slurm" else
                    ["-V", "-v", "BRAINSIM_CHAIN_LEFT=0", "-W", "depend=afterany:4242",
                     str(script)])
    assert recorded(bin_dir, submitter)[1] == continuation
    text = script.read_text()
    for i, value in enumerate(ENVIRONMENT_VALUES):
        assert f"export NOTE{i}={shlex.quote(value)}\n" in text
    assert not pwned(tmp_path)
    events = [json.loads(line) for line in (out / "scheduler_log.jsonl").read_text()
              .splitlines()]
    assert [e["event"] for e in events] == ["submitted", "started", "ended", "submitted"]
    assert events[-1]["job"].startswith("4242")


def test_environment_values_reach_the_job_unchanged(tmp_path):
    """The exported values, read back by the job's own interpreter: byte for byte."""
    odd, model, config = hostile_tree(tmp_path)
    record = tmp_path / "environment.json"
    launcher = tmp_path / "record_environment.py"
    launcher.write_text("import json, os\n"
                        f"json.dump({{k: v for k, v in os.environ.items() if k.startswith("
                        f"'NOTE')}}, open({str(record)!r}, 'w'))\n")
    from brainsim.spec import load_model
    run = load_model(str(model), str(config)).document["run"]
    run = dict(run, launcher=[sys.executable, str(launcher)])
    s = job_settings(run, {"scheduler": "slurm"}, str(config), "m")
    j = job(tmp_path, model=str(model), config=str(config), workdir=str(odd))
    script = tmp_path / "out" / "job.sbatch"
    script.parent.mkdir()
    script.write_text(render(s, j))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_")}
    done = subprocess.run(["bash", str(script)], capture_output=True, text=True, cwd=tmp_path,
                          env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(record.read_text()) == {f"NOTE{i}": text
                                              for i, text in enumerate(ENVIRONMENT_VALUES)}
    assert not pwned(tmp_path)


def test_a_refusal_naming_a_path_with_a_newline_stays_one_line(tmp_path):
    """Before: the config path's newline split the message over two lines."""
    config = tmp_path / "config\nsecond line.yaml"
    config.write_text("run: {partition: 'x;id'}\n")
    done = run_brainsim(["submit", PD14, "--config", str(config), "--scheduler", "slurm",
                         *SMALL, "-o", str(tmp_path / "out"), "--dry-run"], cwd=str(tmp_path))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "config second line.yaml: run.partition" \
        in done.stderr, done.stderr


# --- the job script around signals: time-limit warning during the build, Ctrl-C ------------

def step_of(shell_pid: int, timeout: float = 30) -> int:
    """The job step (the brainsim process) the batch shell started."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for task in os.listdir(f"/proc/{shell_pid}/task"):
            with open(f"/proc/{shell_pid}/task/{task}/children") as handle:
                children = handle.read().split()
            if children:
                return int(children[0])
        time.sleep(0.02)
    raise AssertionError("the job script started no step")


def start_job(script, tmp_path, bin_dir, pause_at):
    marker = str(tmp_path / "paused")
    env = {k: v for k, v in fake_programs(bin_dir, "sbatch", prints="778\n").items()
           if not k.startswith("SLURM_")}
    env.update(SLURM_JOB_ID="777", BRAINSIM_TEST_PAUSE_AT=pause_at,
               BRAINSIM_TEST_PAUSE_FILE=marker, BRAINSIM_TEST_PAUSE_S="3")
    shell = subprocess.Popen(["bash", str(script)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=env)
    deadline = time.monotonic() + 60
    while not os.path.exists(marker + ".0"):
        assert shell.poll() is None and time.monotonic() < deadline, shell.communicate()
        time.sleep(0.02)
    time.sleep(0.2)
    return shell


def local_job_script(tmp_path, t_sim=300):
    """The SLURM script rendered with a launcher that runs the step on this machine, with
    default signal dispositions as srun's tasks have them (bash starts its background
    commands with SIGINT ignored)."""
    launcher = tmp_path / "local_launcher.py"
    launcher.write_text("import os, signal, sys\n"
                        "signal.signal(signal.SIGINT, signal.SIG_DFL)\n"
                        "os.execv(sys.argv[1], sys.argv[1:])\n")
    s = settings(run={"launcher": [sys.executable, str(launcher)], "chain": 1})
    j = job(tmp_path, model=os.path.join(DATA, "small_network.yaml"),
            overrides=(f"simulation.t_sim={t_sim}",))
    script = tmp_path / "out" / "job.sbatch"
    script.parent.mkdir()
    script.write_text(render(s, j))
    return script


def test_time_limit_warning_during_the_build_chains_and_the_continuation_finishes(tmp_path):
    """USR1 to the batch shell (what --signal=B:USR1@... does) while the network is built:
    the step checkpoints at its first epoch boundary and exits 75, the script submits the
    continuation, which resumes to the end: spikes equal an unbroken run. Before: MPI's
    handler swallowed the warning and the step ran on into the time limit."""
    from cli_runner import spike_bytes
    script = local_job_script(tmp_path)
    bin_dir = tmp_path / "bin"
    shell = start_job(script, tmp_path, bin_dir, "build")
    shell.send_signal(signal.SIGUSR1)
    stdout, stderr = shell.communicate(timeout=120)
    assert shell.returncode == 75, stdout + stderr
    assert recorded(bin_dir, "sbatch") == [["--parsable", "--dependency=afterany:777",
                                            str(script)]]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_")}
    again = subprocess.run(["bash", str(script)], capture_output=True, text=True,
                           cwd=tmp_path, env={**env, "SLURM_JOB_ID": "778"}, timeout=120)
    assert again.returncode == 0, again.stderr
    events = [json.loads(line) for line in (tmp_path / "out" / "scheduler_log.jsonl")
              .read_text().splitlines()]
    assert [(e["event"], e.get("action"), e.get("status")) for e in events] == [
        ("started", "run", None), ("ended", "run", 75), ("submitted", None, None),
        ("started", "resume", None), ("ended", "resume", 0)]
    reference = tmp_path / "reference"
    done = run_brainsim(["run", os.path.join(DATA, "small_network.yaml"), "-o", str(reference),
                         "--no-progress", "--set", "simulation.t_sim=300"], cwd=str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert spike_bytes(str(tmp_path / "out")) == spike_bytes(str(reference))


@pytest.mark.parametrize("number", [signal.SIGINT, signal.SIGKILL])
def test_a_job_step_that_dies_before_its_first_checkpoint_lets_the_next_job_run(tmp_path,
                                                                               number):
    """The step interrupted (SIGINT, as `scancel --signal=INT` sends it to the step) or
    killed during the build: its status is logged, no continuation is submitted, and the
    job script run again starts the run afresh and finishes (before: the leftovers made the
    next job fail with status 2)."""
    script = local_job_script(tmp_path, t_sim=100)
    bin_dir = tmp_path / "bin"
    shell = start_job(script, tmp_path, bin_dir, "build")
    os.kill(step_of(shell.pid), number)
    stdout, stderr = shell.communicate(timeout=120)
    assert shell.returncode == 128 + number, stdout + stderr
    assert "Traceback" not in stderr and not recorded(bin_dir, "sbatch")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_")}
    again = subprocess.run(["bash", str(script)], capture_output=True, text=True,
                           cwd=tmp_path, env={**env, "SLURM_JOB_ID": "779"}, timeout=120)
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "out" / "run.json").exists()
