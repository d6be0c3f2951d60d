"""Throw-away PostgreSQL and MariaDB servers for tests, started from a temporary directory on a free port.

PostgreSQL refuses to run as root, so as root its programs run as the `postgres` system user (or `nobody`)
through subprocess's user/group switch; MariaDB runs as the current user (`--user=root` when root). Neither
uses nor touches the packages' system services. A missing server program skips the tests locally and fails
them under CI=true (`scripts/ensure-test-databases.sh`, run by `make test`, installs them).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

READY_TIMEOUT = 60.0


def unavailable(message: str) -> NoReturn:
    """A missing server program: a failure under CI=true, a skip elsewhere."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}; CI must provide it (scripts/ensure-test-databases.sh)")
    pytest.skip(f"{message}; run scripts/ensure-test-databases.sh")


def find_program(*names: str, globs: tuple[str, ...] = ()) -> Path | None:
    """The first of names on PATH or in /usr/sbin, else the newest match of globs."""
    path = os.environ.get("PATH", "") + os.pathsep + "/usr/sbin:/usr/local/sbin"
    for name in names:
        found = shutil.which(name, path=path)
        if found:
            return Path(found)
    matches = sorted((m for pattern in globs for m in glob.glob(pattern)), key=_version_key)
    return Path(matches[-1]) if matches else None


def _version_key(path: str) -> tuple[int, ...]:
    return tuple(int(part) for part in path.split("/") if part.isdigit())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, alive: subprocess.Popen[bytes] | None, log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if alive is not None and alive.poll() is not None:
            raise RuntimeError(f"server exited with {alive.returncode}:\n{_tail(log)}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.05)
    raise RuntimeError(f"server not listening on {port} after {READY_TIMEOUT}s:\n{_tail(log)}")


def _tail(log: Path) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-30:]) if log.exists() else "(no log)"


@dataclass(frozen=True)
class _Account:
    uid: int
    gid: int
    name: str


def _unprivileged() -> _Account | None:
    """Who runs PostgreSQL: the current user, or `postgres`/`nobody` when that is root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            entry = pwd.getpwnam(name)
            return _Account(entry.pw_uid, entry.pw_gid, name)
    raise RuntimeError("running as root and neither a 'postgres' nor a 'nobody' user exists to run PostgreSQL")


@dataclass
class PostgresServer:
    """A PostgreSQL cluster with trust authentication on 127.0.0.1; superuser `postgres`."""

    bindir: Path
    root: Path
    port: int
    settings: dict[str, str]
    account: _Account | None

    host = "127.0.0.1"
    superuser = "postgres"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def log(self) -> Path:
        return self.root / "server.log"

    def _run(self, *args: str) -> None:
        kwargs = {"user": self.account.uid, "group": self.account.gid, "extra_groups": []} if self.account else {}
        result = subprocess.run([str(a) for a in args], capture_output=True, text=True, cwd=self.root,
                                env={**os.environ, "LC_ALL": "C"}, **kwargs)  # type: ignore[call-overload]
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed "
                               f"({result.returncode}):\n{result.stdout}{result.stderr}\n{_tail(self.log)}")

    def start(self) -> None:
        self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-U", self.superuser, "--auth=trust",
                  "-E", "UTF8", "--no-locale", "--no-sync")
        options = {"port": str(self.port), "listen_addresses": "127.0.0.1", "unix_socket_directories": str(self.root),
                   "fsync": "off", "full_page_writes": "off", **self.settings}  # synchronous_commit stays on: logical
        # decoding through the SQL functions reads only flushed WAL
        self._run(str(self.bindir / "pg_ctl"), "start", "-w", "-t", str(int(READY_TIMEOUT)), "-D", str(self.data),
                  "-l", str(self.log), "-o", " ".join(f"-c {key}={value}" for key, value in options.items()))
        _wait_for_port(self.port, None, self.log)

    def stop(self) -> None:
        with contextlib.suppress(RuntimeError):
            self._run(str(self.bindir / "pg_ctl"), "stop", "-m", "immediate", "-D", str(self.data))

    def env(self) -> dict[str, str]:
        """Environment for psql as the superuser (no ~/.psqlrc)."""
        return {**os.environ, "PGUSER": self.superuser, "PSQLRC": os.devnull, "PGCONNECT_TIMEOUT": "10"}

    def dsn(self, dbname: str, user: str | None = None, password: str | None = None) -> str:
        dsn = f"host={self.host} port={self.port} dbname={dbname} user={user or self.superuser} connect_timeout=10"
        return dsn + (f" password={password}" if password else "")


@contextlib.contextmanager
def postgres_server(settings: dict[str, str]) -> Iterator[PostgresServer]:
    initdb = find_program("initdb", globs=("/usr/lib/postgresql/*/bin/initdb",))
    if initdb is None or not (initdb.parent / "pg_ctl").exists():
        unavailable("PostgreSQL server programs (initdb, pg_ctl) not found")
    if shutil.which("psql") is None:
        unavailable("psql not found")
    account = _unprivileged()
    root = Path(tempfile.mkdtemp(prefix="konoha-pg-"))  # not under pytest's root-only tmp dir: `postgres` must reach it
    if account:
        os.chown(root, account.uid, account.gid)
    server = PostgresServer(initdb.parent, root, free_port(), settings, account)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class MariaDBServer:
    """A MariaDB server with the binary log on, on 127.0.0.1; administrator root@127.0.0.1 without password."""

    root: Path
    port: int
    client: Path
    binlog_reader: Path
    process: subprocess.Popen[bytes] | None = None

    host = "127.0.0.1"
    admin = "root"

    @property
    def log(self) -> Path:
        return self.root / "server.log"

    def client_env(self) -> dict[str, str]:
        """Environment for the mysql client as the administrator: a HOME whose .my.cnf names the user."""
        home = self.root / "home"
        home.mkdir(exist_ok=True)
        (home / ".my.cnf").write_text(f"[client]\nuser={self.admin}\n")
        return {**os.environ, "HOME": str(home)}


@contextlib.contextmanager
def mariadb_server() -> Iterator[MariaDBServer]:
    server_program = find_program("mariadbd", "mysqld")
    install_db = find_program("mariadb-install-db", "mysql_install_db")
    client = find_program("mariadb", "mysql")
    binlog_reader = find_program("mariadb-binlog", "mysqlbinlog")
    if not (server_program and install_db and client and binlog_reader):
        unavailable("MariaDB programs (mariadbd, mariadb-install-db, mariadb, mariadb-binlog) not found")
    root = Path(tempfile.mkdtemp(prefix="konoha-mariadb-"))
    data = root / "data"
    as_user = ["--user=root"] if os.geteuid() == 0 else []
    server = MariaDBServer(root, free_port(), client, binlog_reader)
    try:
        subprocess.run([str(install_db), "--no-defaults", f"--datadir={data}", *as_user, "--skip-test-db",
                        "--auth-root-authentication-method=normal"], check=True, capture_output=True)
        with server.log.open("wb") as log:
            server.process = subprocess.Popen(
                [str(server_program), "--no-defaults", f"--datadir={data}", *as_user, f"--port={server.port}",
                 "--bind-address=127.0.0.1", f"--socket={root / 'mysqld.sock'}", f"--pid-file={root / 'mysqld.pid'}",
                 f"--log-error={server.log}", "--log-bin=binlog", "--binlog-format=ROW", "--binlog-row-image=FULL",
                 "--server-id=1", "--innodb-buffer-pool-size=32M", "--innodb-log-file-size=8M",
                 "--innodb-flush-log-at-trx-commit=0", "--skip-innodb-doublewrite"],
                stdout=log, stderr=subprocess.STDOUT)
        _wait_for_port(server.port, server.process, server.log)
        yield server
    finally:
        if server.process is not None:
            server.process.terminate()
            try:
                server.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.process.kill()
                server.process.wait()
        shutil.rmtree(root, ignore_errors=True)
