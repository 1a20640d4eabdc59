"""A throwaway PostgreSQL server for the store tests and benchmarks/store_bench.py.

initdb and pg_ctl from the machine's PostgreSQL (PATH, /usr/local/bin, then Debian's
/usr/lib/postgresql/<version>/bin), in a temporary folder, listening on a Unix socket in
that folder only (no TCP port), trust authentication for one role. PostgreSQL refuses to
run as root, so as root the server runs as `nobody` and the folder is handed to it.
"""

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import urllib.parse

ROLE = "sysgate"
_NEEDED = ("initdb", "pg_ctl", "postgres")


def find_bindir():
    """The folder holding initdb, pg_ctl and postgres, or None."""
    candidates = []
    found = shutil.which("initdb")
    if found:
        candidates.append(os.path.dirname(os.path.realpath(found)))
    candidates.append("/usr/local/bin")

    def version(path):
        name = os.path.basename(os.path.dirname(path))
        return int(name) if name.isdigit() else 0

    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True)
    for folder in candidates:
        if all(os.access(os.path.join(folder, n), os.X_OK) for n in _NEEDED):
            return folder
    return None


def unavailable_reason():
    """Why no test server can run here, or None when one can."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "python3-psycopg is not installed (psycopg 3)"
    if find_bindir() is None:
        return ("PostgreSQL server binaries (initdb, pg_ctl, postgres) not found in PATH, "
                "/usr/local/bin or /usr/lib/postgresql/*/bin; install Debian's postgresql")
    return None


class Server:
    """`with Server() as server: server.create_database("x") -> URL`."""

    def __init__(self, fsync=True, port=5432):
        self.bindir = find_bindir()
        self.fsync = fsync
        self.port = port
        self.folder = None

    def _as_owner(self, command):
        if os.geteuid() != 0:
            return command
        return ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", *command]

    def _run(self, *command):
        done = subprocess.run(self._as_owner(list(command)), capture_output=True, text=True,
                              cwd=self.folder, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed: {done.stdout}{done.stderr}")
        return done

    def start(self):
        self.folder = tempfile.mkdtemp(prefix="sysgate-pg-")
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            os.chown(self.folder, nobody.pw_uid, nobody.pw_gid)
        data = os.path.join(self.folder, "data")
        self._run(os.path.join(self.bindir, "initdb"), "-D", data, "-U", ROLE,
                  "--auth=trust", "-E", "UTF8", "--no-sync", "--locale=C")
        options = f"-k {self.folder} -c listen_addresses='' -p {self.port} -c max_connections=60"
        if not self.fsync:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run(os.path.join(self.bindir, "pg_ctl"), "-D", data, "-l",
                  os.path.join(self.folder, "server.log"), "-w", "-t", "60", "-o", options,
                  "start")
        return self

    def url(self, database):
        host = urllib.parse.quote(self.folder, safe="")
        return f"postgresql://{ROLE}@{host}:{self.port}/{database}"

    def admin(self):
        import psycopg
        return psycopg.connect(self.url("postgres"), autocommit=True)

    def create_database(self, name):
        with self.admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def terminate_clients(self, database):
        """Drops every connection to a database, as a server restart or network cut does."""
        with self.admin() as conn:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                         "WHERE datname = %s AND pid <> pg_backend_pid()", (database,))

    def stop(self):
        if self.folder is None:
            return
        data = os.path.join(self.folder, "data")
        if os.path.exists(os.path.join(data, "postmaster.pid")):
            subprocess.run(self._as_owner([os.path.join(self.bindir, "pg_ctl"), "-D", data,
                                           "-m", "immediate", "-w", "stop"]),
                           capture_output=True, cwd=self.folder, timeout=120)
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
