#!/usr/bin/env python3
"""One entry point for a new machine that has only Python 3.11 (standard library only).

    python3 dev.py            set up and run everything: web, Celery worker, Celery beat
    python3 dev.py test [...] install what the tests need and run the whole suite (pytest)
    python3 dev.py check      ruff (lint + format) and mypy
    python3 dev.py bench [name [--option ...]]  run the benchmarks in bench/ on PostgreSQL
                              and Redis (options go to the one named)
    python3 dev.py chaos [--size N]  fault scenarios (killed worker, dropped database
                              connections, Redis down) on PostgreSQL and a private Redis
    python3 dev.py lock       re-lock requirements*.txt from pyproject.toml

Each creates .venv/ and installs the locked development requirements (with hashes) when
they changed, so they are safe to run again and again; after the first, every command the
README shows (`python manage.py ...`, `celery ...`, `coverage ...`) finds what it needs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / "bin"
PYTHON = BIN / "python"
VAR = ROOT / "var"
# Where a running `python3 dev.py` says which ports it uses, so that `manage.py shell` or a
# worker started by hand in another terminal reaches the same SMTP catcher and links to the
# same site (read by medguard_backend/settings/dev.py).
INSTANCE_FILE = VAR / "dev-instance.json"
# Everything `up` installs: the runtime plus the test tools, so that the README's
# `python manage.py test` and `coverage run manage.py test` work after the first command.
DEV_REQUIREMENTS = "requirements-dev.txt"

DEMO_PASSWORD = "medguard-demo"  # noqa: S105 - printed for the demo logins on purpose


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def require_python_311() -> None:
    if sys.version_info[:2] != (3, 11):
        found = ".".join(map(str, sys.version_info[:3]))
        sys.exit(f"dev.py needs Python 3.11 (Django 5.2 LTS is pinned for it); this is {found}")


def ensure_venv(requirements: str) -> None:
    """Create .venv and install the locked requirements when they changed."""
    if not PYTHON.exists():
        say("creating the virtual environment in .venv/")
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    lock = ROOT / requirements
    stamp = VENV / f".installed-{requirements}"
    digest = hashlib.sha256(lock.read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    say(f"installing {requirements} into .venv/")
    subprocess.run(
        [
            str(PYTHON),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--require-hashes",
            "-r",
            str(lock),
        ],
        check=True,
    )
    stamp.write_text(digest)


def manage(*args: str, env: dict[str, str] | None = None) -> None:
    subprocess.run([str(PYTHON), "manage.py", *args], cwd=ROOT, check=True, env=env)


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def compile_translations(env: dict[str, str]) -> None:
    # The compiled catalogues are committed; this keeps them current after an edit of a
    # .po file, and is skipped when GNU gettext is not installed.
    if shutil.which("msgfmt"):
        manage("compilemessages", "--verbosity", "0", env=env)


def port_from(environ: dict[str, str], name: str, default: int) -> int:
    raw = environ.get(name, "").strip() or str(default)
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        sys.exit(f"{name} must be a port number (1-65535), got {raw!r}")
    return int(raw)


def service_environment(environ: dict[str, str]) -> dict[str, str]:
    """The environment of every process `up` starts: the site's address follows the port it
    runs on (links in emails), unless the operator set a base URL."""
    env = dict(environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "medguard_backend.settings.dev")
    env.setdefault("PYTHONUNBUFFERED", "1")
    web_port = port_from(env, "MEDGUARD_PORT", 8000)
    env["MEDGUARD_PORT"] = str(web_port)
    env["DEV_SMTP_PORT"] = str(port_from(env, "DEV_SMTP_PORT", 1025))
    if not (env.get("SITE_BASE_URL", "").strip() or env.get("WAGTAILADMIN_BASE_URL", "").strip()):
        env["SITE_BASE_URL"] = f"http://127.0.0.1:{web_port}"
    return env


def record_instance(path: Path, env: dict[str, str], catch_mail: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    instance = {
        "pid": os.getpid(),
        "site_base_url": env.get("SITE_BASE_URL") or env.get("WAGTAILADMIN_BASE_URL"),
        "smtp_port": int(env["DEV_SMTP_PORT"]) if catch_mail else None,
    }
    path.write_text(json.dumps(instance))


def forget_instance(path: Path) -> None:
    try:
        if json.loads(path.read_text()).get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError):
        pass


def up() -> int:
    ensure_venv(DEV_REQUIREMENTS)
    env = service_environment(dict(os.environ))
    web_port = int(env["MEDGUARD_PORT"])
    smtp_port = int(env["DEV_SMTP_PORT"])
    catch_mail = not env.get("EMAIL_HOST")
    for port in [web_port] + ([smtp_port] if catch_mail else []):
        if not port_is_free(port):
            sys.exit(
                f"port {port} is in use: stop what is using it, or set "
                f"{'MEDGUARD_PORT' if port == web_port else 'DEV_SMTP_PORT'}"
            )

    compile_translations(env)
    say("migrating the database")
    manage("migrate", "--noinput", "--verbosity", "0", env=env)
    say("loading demo data")
    manage("load_demo_data", env=env)
    # After the demo: on a new database beat first runs the per-minute dispatcher a minute
    # after its task was created, so the demo dose (due within a minute of loading) is
    # reminded at that first run.
    say("setting up the periodic tasks")
    manage("setup_notification_tasks", env=env)

    # Metrics start from zero with the processes that write them (/metrics adds up the
    # files every process leaves in var/metrics/).
    for stale in (VAR / "metrics").glob("*.db"):
        stale.unlink()

    celery = [str(BIN / "celery"), "-A", "medguard_backend"]
    commands: dict[str, list[str]] = {
        "web": [str(PYTHON), "manage.py", "runserver", f"127.0.0.1:{web_port}", "--noreload"],
        "worker": [
            *celery,
            "worker",
            "--loglevel=info",
            "--concurrency=2",
            "--hostname=medguard-dev@%h",
        ],
        "beat": [
            *celery,
            "beat",
            "-l",
            "info",
            "--scheduler",
            "django_celery_beat.schedulers:DatabaseScheduler",
        ],
    }
    if catch_mail:
        commands["mail"] = [
            str(PYTHON),
            "-m",
            "medguard_backend.devtools.mail_catcher",
            "--port",
            str(smtp_port),
            "--folder",
            str(VAR / "mail"),
        ]
    processes: dict[str, subprocess.Popen[bytes]] = {}
    for name, command in commands.items():
        processes[name] = subprocess.Popen(command, cwd=ROOT, env=env)
    record_instance(INSTANCE_FILE, env, catch_mail)

    site = f"http://127.0.0.1:{web_port}"
    mail_where = (
        f"caught on 127.0.0.1:{smtp_port}, saved as .eml files in {VAR / 'mail'}/"
        if catch_mail
        else f"sent through {env['EMAIL_HOST']}"
    )
    print(
        f"""
MedGuard SA Notifications is running (Ctrl-C stops everything).
  web:        {site}/
  admin:      {site}/admin/
  health:     {site}/health/
  logins:     admin (staff, superuser), thandi and johan (patients), naledi (caregiver)
              password for all of them: {DEMO_PASSWORD}
  email:      {mail_where}
  links in messages: {env.get("SITE_BASE_URL") or env.get("WAGTAILADMIN_BASE_URL")}
  database:   {env.get("DATABASE_URL") or "SQLite, var/db.sqlite3"}
  broker:     {env.get("CELERY_BROKER_URL") or "filesystem transport, var/broker/"}

In another terminal, `python manage.py ...` works as it is (it uses .venv/); for `celery ...`
and `coverage ...` activate the environment first:  . {VENV.relative_to(ROOT)}/bin/activate
""",
        flush=True,
    )

    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    exit_code = 0
    while not stopping:
        for name, process in processes.items():
            if process.poll() is not None:
                print(
                    f"{name} exited with status {process.returncode}; stopping the rest", flush=True
                )
                exit_code = 1
                stopping = True
        time.sleep(0.5)

    say("stopping")
    forget_instance(INSTANCE_FILE)
    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 20
    for process in processes.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return exit_code


def test(pytest_args: list[str]) -> int:
    ensure_venv(DEV_REQUIREMENTS)
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="medguard_backend.settings.test")
    compile_translations(env)
    return subprocess.call([str(PYTHON), "-m", "pytest", *pytest_args], cwd=ROOT, env=env)


def check() -> int:
    ensure_venv(DEV_REQUIREMENTS)
    failed = 0
    for command in (
        [str(BIN / "ruff"), "check", "."],
        [str(BIN / "ruff"), "format", "--check", "."],
        [str(BIN / "mypy"), "."],
    ):
        say(" ".join(Path(command[0]).name if i == 0 else part for i, part in enumerate(command)))
        failed |= subprocess.call(command, cwd=ROOT)
    return 1 if failed else 0


def bench(rest: list[str]) -> int:
    """Run benchmarks in bench/ on the machine's PostgreSQL (and Redis for the broker).

    ``bench NAME --option ...`` passes the options to that one benchmark."""
    first_option = next((i for i, arg in enumerate(rest) if arg.startswith("-")), len(rest))
    names, options = rest[:first_option], rest[first_option:]
    if options and len(names) != 1:
        sys.exit("options go to one benchmark: python3 dev.py bench NAME --option ...")
    ensure_venv(DEV_REQUIREMENTS)
    env = dict(os.environ)
    env.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/medguard_bench")
    env.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/12")
    env.setdefault("CELERY_RESULT_BACKEND", "redis://127.0.0.1:6379/12")
    available = sorted(
        p.stem for p in (ROOT / "bench").glob("*.py") if p.stem not in {"__init__", "common"}
    )
    failed = 0
    for name in names or available:
        if name not in available:
            sys.exit(f"unknown benchmark {name!r}; choose from {', '.join(available)}")
        say(f"bench/{name}.py")
        command = [str(PYTHON), f"bench/{name}.py", *options]
        failed |= subprocess.call(command, cwd=ROOT, env=env)
    return 1 if failed else 0


def chaos(args: list[str]) -> int:
    """Run the fault scenarios (notifications/tests/test_chaos.py) with a real worker, the
    real SMTP server, PostgreSQL (DATABASE_URL, by default the machine's) and a Redis of
    their own, started here on a free port and stopped after; print each scenario's tally.
    Exits non-zero on any duplicate, anything stranded, or a scenario that did not run."""
    parser = argparse.ArgumentParser(prog="dev.py chaos")
    parser.add_argument("--size", type=int, default=12, help="recipients per scenario")
    options = parser.parse_args(args)
    if options.size < 4:
        sys.exit("--size must be at least 4")
    if not shutil.which("redis-server"):
        sys.exit("chaos needs redis-server (apt-get install redis-server)")
    ensure_venv("requirements-dev.txt")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        redis_port = probe.getsockname()[1]
    redis_command = ["redis-server", "--bind", "127.0.0.1", "--port", str(redis_port)]
    redis = subprocess.Popen(
        [*redis_command, "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL
    )
    report = Path(tempfile.mkstemp(prefix="chaos-", suffix=".jsonl")[1])
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="medguard_backend.settings.test")
    env.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/medguard")
    env.setdefault("MEDGUARD_TEST_DB_SUFFIX", "_chaos")
    redis_url = f"redis://127.0.0.1:{redis_port}"
    env.update(
        CELERY_BROKER_URL=f"{redis_url}/0",
        CELERY_RESULT_BACKEND=f"{redis_url}/1",
        REDIS_URL=f"{redis_url}/2",
        CHAOS_SIZE=str(options.size),
        CHAOS_REPORT=str(report),
    )
    try:
        for _ in range(50):
            if not port_is_free(redis_port):
                break
            time.sleep(0.1)
        compile_translations(env)
        tests = [str(PYTHON), "-m", "pytest", "notifications/tests/test_chaos.py"]
        code = subprocess.call([*tests, "-p", "no:cacheprovider", "-q"], cwd=ROOT, env=env)
    finally:
        redis.kill()
        redis.wait()
    tallies = [json.loads(line) for line in report.read_text().splitlines() if line.strip()]
    report.unlink()
    say(f"chaos, {options.size} recipients per scenario")
    print(
        f"{'scenario':<20} {'expected':>8} {'delivered':>9} {'duplicated':>10} {'stranded':>8}"
        f" {'resent*':>7}"
    )
    for found in tallies:
        print(
            f"{found['scenario']:<20} {found['expected']:>8} {found['delivered']:>9}"
            f" {found['duplicated']:>10} {found['stranded']:>8} {found['resent']:>7}"
            f"  {found['note']}"
        )
    print(
        "* resent with the same Message-ID (the receiving side recognises the copy): a worker"
        " killed between the SMTP server's answer and the commit"
    )
    bad = [f for f in tallies if f["duplicated"] or f["stranded"]]
    if code or bad or len(tallies) < 5:
        say(
            f"chaos FAILED (pytest exit {code}, {len(bad)} scenarios with duplicates or"
            f" stranded, {len(tallies)} of 5 scenarios reported)"
        )
        return 1
    return 0


def lock() -> int:
    ensure_venv(DEV_REQUIREMENTS)
    subprocess.run([str(PYTHON), "-m", "pip", "install", "--quiet", "uv"], check=True)
    base = [
        str(BIN / "uv"),
        "pip",
        "compile",
        "pyproject.toml",
        "--python-version",
        "3.11",
        "--generate-hashes",
        "--quiet",
    ]
    subprocess.run([*base, "-o", "requirements.txt"], cwd=ROOT, check=True)
    subprocess.run([*base, "--group", "dev", "-o", "requirements-dev.txt"], cwd=ROOT, check=True)
    return 0


def main() -> int:
    require_python_311()
    os.chdir(ROOT)
    command, *rest = sys.argv[1:] or ["up"]
    if command == "up":
        return up()
    if command == "test":
        return test(rest)
    if command == "check":
        return check()
    if command == "bench":
        return bench(rest)
    if command == "lock":
        return lock()
    if command == "chaos":
        return chaos(rest)
    sys.exit(f"unknown command {command!r}; use one of: up, test, check, bench, chaos, lock")


if __name__ == "__main__":
    sys.exit(main())
